package awsrt

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/appsecret"
	"github.com/switchyard-dev/switchyard/pkg/outbound"
	"github.com/switchyard-dev/switchyard/pkg/platformkeys"
	"github.com/switchyard-dev/switchyard/pkg/provider/wixjwt"
)

// ParameterReader is the one SSM call LoadKeys makes.
type ParameterReader interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// LoadKeys reads the platform keys a function was given: the AES key sealing apps' signing secrets
// (PLATFORM_SECRET_KEY_PARAMETER, base64 of 32 bytes) and the RSA key of WIX_JWT envelopes
// (PLATFORM_JWT_KEY_PARAMETER, PEM), each an SSM SecureString read once per cold start. Only the
// functions that sign, seal or publish the public key are given a parameter name and the IAM right to
// read it; the others get nil parts.
func LoadKeys(ctx context.Context, ssmc ParameterReader, cfg Config) (*platformkeys.Keys, error) {
	keys := &platformkeys.Keys{}
	if cfg.SecretKeyParameter != "" {
		v, err := readSecure(ctx, ssmc, cfg.SecretKeyParameter)
		if err != nil {
			return nil, err
		}
		if keys.Box, err = platformkeys.ParseSecretKey(v); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.SecretKeyParameter, err)
		}
	}
	if cfg.JWTKeyParameter != "" {
		v, err := readSecure(ctx, ssmc, cfg.JWTKeyParameter)
		if err != nil {
			return nil, err
		}
		if keys.JWT, err = platformkeys.ParseJWTKey(v); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.JWTKeyParameter, err)
		}
	}
	return keys, nil
}

func readSecure(ctx context.Context, ssmc ParameterReader, name string) (string, error) {
	out, err := ssmc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read SSM parameter %s: %w", name, err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", fmt.Errorf("SSM parameter %s has no value", name)
	}
	return aws.ToString(out.Parameter.Value), nil
}

// signing wires the API's and the engine's use of the keys; nil parts stay off.
func signing(keys *platformkeys.Keys, store outbound.Store, issuer string) (api.Signing, *outbound.Builder) {
	var s api.Signing
	if keys == nil {
		return s, outbound.New(outbound.Config{Store: store})
	}
	if keys.Box != nil {
		s.Secrets = appsecret.New(keys.Box, 0, nil)
	}
	if keys.JWT != nil {
		s.JWT = wixjwt.NewSigner(keys.JWT, issuer, nil)
	}
	return s, outbound.New(outbound.Config{Store: store, Secrets: s.Secrets, JWT: s.JWT})
}
