package awse2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
	"github.com/switchyard-dev/switchyard/internal/awslocal"
	"github.com/switchyard-dev/switchyard/internal/testprovider"
	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/awsrt"
	"github.com/switchyard-dev/switchyard/pkg/run"
	sfnrunner "github.com/switchyard-dev/switchyard/pkg/runner/sfn"
	"github.com/switchyard-dev/switchyard/pkg/store/dynamo"
)

// TestLoadFromEnvironment builds the runtime exactly as a function's main does (awsrt.Load with the
// process environment) with the SDK's standard endpoint variables pointing at DynamoDB Local and at a
// Step Functions stand-in: an event reported through the API lands in DynamoDB and starts an execution
// named after the branch, and the default SSRF guard refuses the loopback provider, as on AWS.
//
// Not parallel: it sets process environment variables.
func TestLoadFromEnvironment(t *testing.T) {
	ctx := context.Background()
	ddb := awslocal.StartDynamoDB(t)
	client, err := dynamo.NewLocalClient(ddb)
	if err != nil {
		t.Fatal(err)
	}
	table := "awse2e_load"
	if err := dynamo.New(client, table).CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})

	var mu sync.Mutex
	var starts []map[string]any
	sfnAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Amz-Target") != "AWSStepFunctions.StartExecution" {
			http.Error(w, `{"__type":"UnknownOperationException"}`, http.StatusBadRequest)
			return
		}
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		mu.Lock()
		starts = append(starts, in)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, `{"executionArn":"arn:aws:states:us-east-1:123456789012:execution:sm:x","startDate":1.7E9}`)
	}))
	t.Cleanup(sfnAPI.Close)

	const machine = "arn:aws:states:us-east-1:123456789012:stateMachine:switchyard-activation"
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_ENDPOINT_URL_DYNAMODB": ddb, "AWS_ENDPOINT_URL_SFN": sfnAPI.URL,
		"TABLE_NAME": table, "STATE_MACHINE_ARN": machine, "ADMIN_KEY_HASH": access.Hash(awse2e.AdminKey), "LOG_LEVEL": "error",
		"ALLOWED_PROVIDER_CIDRS": "", "ALLOW_PRIVATE_PROVIDERS": "",
	} {
		t.Setenv(k, v)
	}
	rt, err := awsrt.Load(ctx, os.Getenv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	prov := testprovider.Start(t, nil)
	owner, app := awse2e.SetupSite(t, rt.HTTPHandler(), prov.URL)
	owner.Must("POST", "/v2/automations", awse2e.Chain(1))
	ids := app.Report(map[string]any{"name": "Jo", "email": "jo@example.com"}, "")
	if len(ids) != 1 {
		t.Fatalf("activations = %v", ids)
	}
	mu.Lock()
	got := append([]map[string]any(nil), starts...)
	mu.Unlock()
	wantName := sfnrunner.ExecutionName(run.BranchRef{ActivationID: ids[0], BranchID: awse2e.ActionID(1)})
	if len(got) != 1 || got[0]["stateMachineArn"] != machine || got[0]["name"] != wantName ||
		!strings.Contains(got[0]["input"].(string), ids[0]) {
		t.Fatalf("StartExecution requests = %v, want one for %s", got, wantName)
	}

	out, err := rt.StepHandler(ctx, awsrt.StepInput{ActivationID: ids[0], BranchID: awse2e.ActionID(1)})
	if err != nil || out.Instruction != "DONE" {
		t.Fatalf("step = %+v, %v", out, err)
	}
	if n := len(prov.CallsFor("note")); n != 0 {
		t.Fatalf("a loopback provider was called %d times; the AWS default guard must refuse it", n)
	}
	logs := owner.ActionLogs(ids[0])
	if len(logs) != 1 || logs[0]["activationStatus"] != "FAILED" || !strings.Contains(awse2e.Dig(logs[0], "failedInfo.errorDescription").(string), "loopback") {
		t.Fatalf("action logs = %v, want the action FAILED by the SSRF guard", logs)
	}
}
