// Command piggy-create-automation-run is the Lambda function behind POST /api/v3/oauth/clients/automations/runs (Piggy's Create Automation Run).
// It serves the whole REST API handler; the template routes only this method here, which gives the
// method its own IAM role, concurrency and metrics.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard-dev/switchyard/pkg/awsrt"
)

func main() { lambda.Start(awsrt.MustLoad().APIHandler) }
