// Command engine-fail is the state machine's RecordFailure task: a branch whose step kept failing is
// recorded on its activation, so the activation does not stay STARTED forever.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard-dev/switchyard/pkg/awsrt"
)

func main() { lambda.Start(awsrt.MustLoad().FailHandler) }
