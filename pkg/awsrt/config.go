// Package awsrt is the Lambda bootstrap every function of the AWS deployment shares: configuration from
// the environment, AWS clients, the DynamoDB store, the engine with the Step Functions runner as its
// Starter, the provider client, and the handlers — the REST API behind an API Gateway HTTP API (payload
// v2) adapter, the three engine tasks the state machine calls (step, park, fail), and the scheduled sweep
// that starts branches whose StartExecution failed.
//
// A function's main only calls Load and hands one handler to lambda.Start; everything that can be
// tested without AWS is reachable through New with injected dependencies.
package awsrt

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/provider"
)

// Config is what a function reads from its environment.
type Config struct {
	TableName       string     // TABLE_NAME: the single DynamoDB table
	StateMachineARN string     // STATE_MACHINE_ARN: the activation state machine
	LogLevel        slog.Level // LOG_LEVEL: debug, info (default), warn, error
	// AdminKeyHash is ADMIN_KEY_HASH, access.Hash of the admin key (hex SHA-256). It comes from a NoEcho
	// stack parameter rather than SSM so that a cold start makes no extra call; the hash of a 256-bit
	// random key is of no use to whoever reads the function's configuration.
	AdminKeyHash string
	// AllowPrivateProviders (ALLOW_PRIVATE_PROVIDERS=true) lets providers live on private addresses.
	// Off by default: a Lambda in a VPC could otherwise be steered at internal services.
	AllowPrivateProviders bool
	// AllowedNetworks (ALLOWED_PROVIDER_CIDRS, the AllowedProviderCidrs parameter) is the explicit
	// allow-list for provider calls and the webhook action: CIDRs, IPs, IP:port and host:port entries
	// (provider.ParseAllowList), admitted whatever their class. Loopback is never allowed by default on
	// AWS; private, link-local and metadata addresses only when listed here.
	AllowedNetworks provider.AllowList
	// StepsPerInvocation (STEPS_PER_INVOCATION, default 10) is how many consecutive immediate steps one
	// engine-step invocation may run before handing back to the state machine. Every hand-back costs
	// two state transitions (Step + Route), which is what Standard workflows bill for.
	StepsPerInvocation int
	// StepReserve (STEP_RESERVE, a Go duration, default 40s) is how much of the invocation's time must
	// remain to start another step in the same invocation: longer than one provider call with its
	// retries (30 s) plus the store's writes.
	StepReserve time.Duration
	Stage       string // STAGE: deployment stage, for logs only
	// SecretKeyParameter (PLATFORM_SECRET_KEY_PARAMETER) and JWTKeyParameter
	// (PLATFORM_JWT_KEY_PARAMETER) name the SSM SecureString parameters holding the platform keys; set
	// only on the functions that need them (see LoadKeys).
	SecretKeyParameter, JWTKeyParameter string
	// JWTIssuer (JWT_ISSUER) is the iss of WIX_JWT envelopes; empty means wix.com, what @wix/sdk accepts.
	JWTIssuer string
	// SweepGrace (SWEEP_GRACE, a Go duration, default 2m) is how old an unstarted mark must be before
	// engine-sweep starts its branch: long enough that the StartExecution right after the write (with the
	// SDK's retries) has either succeeded or given up.
	SweepGrace time.Duration
	// SweepLimit (SWEEP_LIMIT, 1..1000, default 200) bounds the branches one engine-sweep run starts, so a
	// backlog after an outage drains at a pace the StartExecution quota absorbs.
	SweepLimit int
}

// ConfigFromEnv reads Config; getenv is os.Getenv in a function and a map lookup in tests.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		TableName:          strings.TrimSpace(getenv("TABLE_NAME")),
		StateMachineARN:    strings.TrimSpace(getenv("STATE_MACHINE_ARN")),
		AdminKeyHash:       strings.ToLower(strings.TrimSpace(getenv("ADMIN_KEY_HASH"))),
		Stage:              strings.TrimSpace(getenv("STAGE")),
		SecretKeyParameter: strings.TrimSpace(getenv("PLATFORM_SECRET_KEY_PARAMETER")),
		JWTKeyParameter:    strings.TrimSpace(getenv("PLATFORM_JWT_KEY_PARAMETER")),
		JWTIssuer:          strings.TrimSpace(getenv("JWT_ISSUER")),
		StepsPerInvocation: 10,
		StepReserve:        40 * time.Second,
		SweepGrace:         DefaultSweepGrace,
		SweepLimit:         DefaultSweepLimit,
	}
	if c.TableName == "" {
		return Config{}, fmt.Errorf("TABLE_NAME is not set")
	}
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return Config{}, fmt.Errorf("LOG_LEVEL: %w", err)
		}
	}
	if c.AdminKeyHash != "" && !isHexSHA256(c.AdminKeyHash) {
		// A raw key pasted instead of its hash would otherwise lock the admin out silently.
		return Config{}, fmt.Errorf("ADMIN_KEY_HASH must be the hex SHA-256 of the admin key (64 hex digits)")
	}
	if v := strings.TrimSpace(getenv("ALLOW_PRIVATE_PROVIDERS")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("ALLOW_PRIVATE_PROVIDERS: %w", err)
		}
		c.AllowPrivateProviders = b
	}
	allow, err := provider.ParseAllowList(getenv("ALLOWED_PROVIDER_CIDRS"))
	if err != nil {
		return Config{}, fmt.Errorf("ALLOWED_PROVIDER_CIDRS: %w", err)
	}
	c.AllowedNetworks = allow
	if v := strings.TrimSpace(getenv("STEPS_PER_INVOCATION")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return Config{}, fmt.Errorf("STEPS_PER_INVOCATION must be 1..1000, got %q", v)
		}
		c.StepsPerInvocation = n
	}
	if v := strings.TrimSpace(getenv("STEP_RESERVE")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return Config{}, fmt.Errorf("STEP_RESERVE must be a non-negative duration, got %q", v)
		}
		c.StepReserve = d
	}
	if err := sweepFromEnv(getenv, &c); err != nil {
		return Config{}, err
	}
	return c, nil
}

func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
