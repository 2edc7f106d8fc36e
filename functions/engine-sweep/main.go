// Command engine-sweep runs on a schedule: it starts the executions of branches that were stored but
// whose StartExecution failed for good, so their activations do not hang INITIATED or STARTED forever.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard-dev/switchyard/pkg/awsrt"
)

func main() { lambda.Start(awsrt.MustLoad().SweepHandler) }
