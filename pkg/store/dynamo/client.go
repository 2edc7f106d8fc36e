package dynamo

import (
	"fmt"
	"net"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// NewLocalClient returns a client for DynamoDB Local (tests, `sam local`): dummy static credentials
// (DynamoDB Local wants a SigV4-shaped Authorization header but never checks it) and the endpoint as
// given. The endpoint must be a loopback address: DynamoDB Local listens on every interface, so clients
// are pointed at 127.0.0.1, and refusing anything else keeps these settings away from real AWS.
//
// Response checksum validation is off: DynamoDB Local's error responses carry no CRC32, and with it on the
// SDK logs a checksum warning for every failed conditional write. Real clients keep it on.
func NewLocalClient(endpoint string) (*dynamodb.Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("dynamodb local endpoint %q: %w", endpoint, err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("dynamodb local endpoint %q: want http://127.0.0.1:PORT (a loopback IP)", endpoint)
	}
	return dynamodb.New(dynamodb.Options{
		Region:                          "us-east-1",
		BaseEndpoint:                    aws.String(endpoint),
		Credentials:                     credentials.NewStaticCredentialsProvider("local", "local", ""),
		DisableValidateResponseChecksum: true,
	}), nil
}
