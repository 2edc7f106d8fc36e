package awsrt

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	sfnrunner "github.com/switchyard-dev/switchyard/pkg/runner/sfn"
	"github.com/switchyard-dev/switchyard/pkg/store/dynamo"
)

// Load builds the production Runtime of a function from its environment: Config, the AWS SDK's default
// credential and region chain, the DynamoDB store and the Step Functions runner.
//
// Endpoints follow the SDK's standard variables, which is how `sam local invoke` and the offline tests
// point a function at emulators: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SFN (or AWS_ENDPOINT_URL for
// all services). Load only reads configuration; no AWS call is made before the first request.
func Load(ctx context.Context, getenv func(string) string) (*Runtime, error) {
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	localDynamo := getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" || getenv("AWS_ENDPOINT_URL") != ""
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		// DynamoDB Local's error responses carry no CRC32: without this every failed conditional write
		// logs a checksum warning. Real DynamoDB keeps the check.
		o.DisableValidateResponseChecksum = localDynamo
	})
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if cfg.Stage != "" {
		log = log.With("stage", cfg.Stage)
	}
	runner := sfnrunner.New(awssfn.NewFromConfig(awsCfg), cfg.StateMachineARN, sfnrunner.Options{Logger: log})
	var keys *platformkeys.Keys
	if cfg.SecretKeyParameter != "" || cfg.JWTKeyParameter != "" {
		if keys, err = LoadKeys(ctx, ssm.NewFromConfig(awsCfg), cfg); err != nil {
			return nil, fmt.Errorf("platform keys: %w", err)
		}
	}
	return New(cfg, Deps{Store: dynamo.New(db, cfg.TableName), Starter: runner, Keys: keys, Logger: log})
}

// MustLoad is Load for a function's main: a function that cannot configure itself must fail its init
// phase loudly (Lambda reports Runtime.ExitError and retries the cold start) rather than serve errors.
func MustLoad() *Runtime {
	rt, err := Load(context.Background(), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchyard: "+err.Error())
		os.Exit(1)
	}
	return rt
}
