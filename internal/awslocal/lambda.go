package awslocal

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// Invoker is a Lambda function body. lambda.NewHandler(fn) from aws-lambda-go satisfies it, so
// the project's real handlers plug in with their production JSON (de)serialisation.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// Invocation records one call that reached a LambdaServer.
type Invocation struct {
	Function       string // normalized function name
	RawName        string // name or ARN as it appeared in the request path
	InvocationType string // RequestResponse, Event or DryRun
	Payload        []byte
	Response       []byte // handler output (nil on error)
	ErrorType      string // set when the function failed (or "ResourceNotFoundException")
	ErrorMessage   string
	Start          time.Time
	Duration       time.Duration
}

// LambdaServer is an httptest server implementing the Lambda Invoke API
// (POST /2015-03-31/functions/{FunctionName}/invocations) on 127.0.0.1. Point an AWS client or
// sfn-run at URL via AWS_ENDPOINT_URL_LAMBDA.
//
// A handler error is answered like Lambda does: HTTP 200, header X-Amz-Function-Error:
// Unhandled, body {"errorType":…,"errorMessage":…}. errorType is the error's ErrorType() if it
// has that method, the Type field of an aws-lambda-go messages.InvokeResponse_Error, or else the
// error's type name without package and pointer (what aws-lambda-go reports: "errorString" for
// errors.New). Note that aws-lambda-go on AWS does NOT consult ErrorType(): production code that
// needs a specific ASL error name must return messages.InvokeResponse_Error{Type: …} or an error
// whose type is named that way.
type LambdaServer struct {
	URL string

	srv      *httptest.Server
	mu       sync.Mutex
	handlers map[string]Invoker
	calls    []Invocation
	wg       sync.WaitGroup
}

// NewLambdaServer starts a LambdaServer, closed in t.Cleanup.
func NewLambdaServer(t testing.TB) *LambdaServer {
	t.Helper()
	s := &LambdaServer{handlers: map[string]Invoker{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", s.serveInvoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeLambdaAPIError(w, http.StatusNotFound, "UnknownOperationException", "unsupported: "+r.Method+" "+r.URL.Path)
	})
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(func() {
		s.wg.Wait() // asynchronous (Event) invocations
		s.srv.Close()
	})
	return s
}

// Register binds a function name (or ARN; it is normalized with FunctionName) to h.
func (s *LambdaServer) Register(name string, h Invoker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[FunctionName(name)] = h
}

// Invocations returns the recorded calls of one function (normalized name or ARN), or of all
// functions when name is "".
func (s *LambdaServer) Invocations(name string) []Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := FunctionName(name)
	var out []Invocation
	for _, c := range s.calls {
		if name == "" || c.Function == want {
			out = append(out, c)
		}
	}
	return out
}

// FunctionName normalizes a Lambda function identifier as the Invoke API accepts it:
// "arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]" and "ACCOUNT:function:NAME" give
// NAME; any other value containing ":" gives its last ":"-separated segment.
func FunctionName(s string) string {
	if i := strings.Index(s, "function:"); i >= 0 {
		rest := s[i+len("function:"):]
		if j := strings.IndexByte(rest, ':'); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func (s *LambdaServer) serveInvoke(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("name")
	name := FunctionName(raw)
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		writeLambdaAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	invType := r.Header.Get("X-Amz-Invocation-Type")
	if invType == "" {
		invType = "RequestResponse"
	}
	call := Invocation{Function: name, RawName: raw, InvocationType: invType, Payload: payload, Start: time.Now()}

	s.mu.Lock()
	h := s.handlers[name]
	s.mu.Unlock()
	if h == nil {
		call.ErrorType = "ResourceNotFoundException"
		call.ErrorMessage = "Function not found: " + raw
		s.record(call)
		writeLambdaAPIError(w, http.StatusNotFound, call.ErrorType, call.ErrorMessage)
		return
	}
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	switch invType {
	case "DryRun":
		s.record(call)
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.record(s.invoke(context.Background(), h, call))
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	call = s.invoke(r.Context(), h, call)
	s.record(call)
	w.Header().Set("Content-Type", "application/json")
	if call.ErrorType != "" {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		body, _ := json.Marshal(map[string]string{"errorType": call.ErrorType, "errorMessage": call.ErrorMessage})
		_, _ = w.Write(body)
		return
	}
	_, _ = w.Write(call.Response)
}

func (s *LambdaServer) invoke(ctx context.Context, h Invoker, call Invocation) (out Invocation) {
	out = call
	defer func() {
		if v := recover(); v != nil {
			out.Response = nil
			out.ErrorType = typeName(v)
			out.ErrorMessage = fmt.Sprint(v)
		}
		out.Duration = time.Since(call.Start)
	}()
	resp, err := h.Invoke(ctx, call.Payload)
	if err != nil {
		out.ErrorType = LambdaErrorType(err)
		out.ErrorMessage = lambdaErrorMessage(err)
		return out
	}
	out.Response = resp
	return out
}

func (s *LambdaServer) record(c Invocation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// LambdaErrorType is the errorType a LambdaServer reports for err (see LambdaServer).
func LambdaErrorType(err error) string {
	if et, ok := err.(interface{ ErrorType() string }); ok {
		if s := et.ErrorType(); s != "" {
			return s
		}
	}
	if s, ok := invokeResponseErrorField(err, "Type"); ok && s != "" {
		return s
	}
	return typeName(err)
}

func lambdaErrorMessage(err error) string {
	if s, ok := invokeResponseErrorField(err, "Message"); ok {
		return s
	}
	return err.Error()
}

// invokeResponseErrorField reads a string field of an aws-lambda-go messages.InvokeResponse_Error
// (matched by type name, so this package needs no dependency on aws-lambda-go).
func invokeResponseErrorField(err error, field string) (string, bool) {
	v := reflect.ValueOf(err)
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "", false
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type().Name() != "InvokeResponse_Error" {
		return "", false
	}
	f := v.FieldByName(field)
	if !f.IsValid() || f.Kind() != reflect.String {
		return "", false
	}
	return f.String(), true
}

func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "error"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return "error"
	}
	return t.Name()
}

func writeLambdaAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	body, _ := json.Marshal(map[string]string{"Type": "User", "__type": typ, "Message": msg, "message": msg})
	_, _ = w.Write(body)
}

// ErrFunction is a convenience error whose ErrorType is Type: return it from an Invoker to fail
// an ASL state with a chosen error name.
type ErrFunction struct {
	Type    string
	Message string
}

func (e *ErrFunction) Error() string     { return e.Message }
func (e *ErrFunction) ErrorType() string { return e.Type }
