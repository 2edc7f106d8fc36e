// Command engine-park is invoked by the state machine's waitForTaskToken state: it stores the task token
// on the waiting branch so that ReportActionInvocationCompleted can wake the execution.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard-dev/switchyard/pkg/awsrt"
)

func main() { lambda.Start(awsrt.MustLoad().ParkHandler) }
