package awslocal_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/internal/awslocal"
)

type namedErr struct{ msg string }

func (e *namedErr) Error() string { return e.msg }

// InvokeResponse_Error mimics aws-lambda-go's messages.InvokeResponse_Error (matched by name).
type InvokeResponse_Error struct {
	Message string
	Type    string
}

func (e InvokeResponse_Error) Error() string { return e.Message }

func invoke(t *testing.T, base, fn string, payload string, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/2015-03-31/functions/"+url.PathEscape(fn)+"/invocations", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"step": "step",
		"arn:aws:lambda:us-east-1:123456789012:function:step":      "step",
		"arn:aws:lambda:us-east-1:123456789012:function:step:live": "step",
		"123456789012:function:step":                               "step",
		"arn:aws:whatever:step":                                    "step",
	} {
		if got := awslocal.FunctionName(in); got != want {
			t.Errorf("FunctionName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLambdaServer(t *testing.T) {
	ls := awslocal.NewLambdaServer(t)
	ls.Register("arn:aws:lambda:us-east-1:123456789012:function:echo", awslocal.InvokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
		return p, nil
	}))
	failWith := func(err error) awslocal.Invoker {
		return awslocal.InvokerFunc(func(context.Context, []byte) ([]byte, error) { return nil, err })
	}
	ls.Register("custom", failWith(&awslocal.ErrFunction{Type: "ActionFailed", Message: "provider said no"}))
	ls.Register("plain", failWith(errors.New("boom")))
	ls.Register("named", failWith(&namedErr{"bad"}))
	ls.Register("lambdago", failWith(InvokeResponse_Error{Message: "m", Type: "FromLambdaGo"}))
	ls.Register("panics", awslocal.InvokerFunc(func(context.Context, []byte) ([]byte, error) { panic("kaboom") }))

	// Names arrive URL-escaped, as ARNs with a qualifier, or plain.
	for _, fn := range []string{"echo", "arn:aws:lambda:us-east-1:123456789012:function:echo", "123456789012:function:echo:live"} {
		status, hdr, body := invoke(t, ls.URL, fn, `{"a":1}`, nil)
		if status != 200 || hdr.Get("X-Amz-Function-Error") != "" || body != `{"a":1}` {
			t.Errorf("invoke %s: %d %v %s", fn, status, hdr, body)
		}
	}

	for fn, wantType := range map[string]string{
		"custom":   "ActionFailed",
		"plain":    "errorString",
		"named":    "namedErr",
		"lambdago": "FromLambdaGo",
		"panics":   "string",
	} {
		status, hdr, body := invoke(t, ls.URL, fn, `{}`, nil)
		var e struct{ ErrorType, ErrorMessage string }
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("%s: %v: %s", fn, err, body)
		}
		if status != 200 || hdr.Get("X-Amz-Function-Error") != "Unhandled" || e.ErrorType != wantType {
			t.Errorf("%s: status %d, X-Amz-Function-Error %q, body %s; want errorType %s", fn, status, hdr.Get("X-Amz-Function-Error"), body, wantType)
		}
	}

	status, hdr, body := invoke(t, ls.URL, "missing", `{}`, nil)
	if status != 404 || hdr.Get("X-Amzn-ErrorType") != "ResourceNotFoundException" {
		t.Errorf("missing function: %d %v %s", status, hdr, body)
	}

	status, _, _ = invoke(t, ls.URL, "echo", `{"async":true}`, map[string]string{"X-Amz-Invocation-Type": "Event"})
	if status != 202 {
		t.Errorf("Event invocation: status %d, want 202", status)
	}

	calls := ls.Invocations("arn:aws:lambda:us-east-1:123456789012:function:echo")
	if len(calls) < 3 {
		t.Fatalf("recorded %d echo calls, want >= 3", len(calls))
	}
	if calls[1].RawName != "arn:aws:lambda:us-east-1:123456789012:function:echo" || string(calls[0].Payload) != `{"a":1}` {
		t.Errorf("recorded call: %+v", calls[1])
	}
	if got := ls.Invocations("custom"); len(got) != 1 || got[0].ErrorType != "ActionFailed" || got[0].ErrorMessage != "provider said no" {
		t.Errorf("custom calls: %+v", got)
	}
}
