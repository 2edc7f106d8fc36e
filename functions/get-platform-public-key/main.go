// Command get-platform-public-key is the Lambda function behind GET /v1/platform/public-key.
// It serves the whole REST API handler; the template routes only this method here, which gives the
// method its own IAM role, concurrency and metrics (here: reading the platform JWT key).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/switchyard-dev/switchyard/pkg/awsrt"
)

func main() { lambda.Start(awsrt.MustLoad().APIHandler) }
