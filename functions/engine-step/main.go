// Command engine-step is the state machine's Step task: it advances one branch of an activation and
// answers the instruction (CONTINUE, WAIT, AWAIT, DONE) the state machine routes on.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard-dev/switchyard/pkg/awsrt"
)

func main() { lambda.Start(awsrt.MustLoad().StepHandler) }
