// Package testprovider is a real action provider for tests: an HTTP server on 127.0.0.1 that answers the
// service-plugin invoke call with per-action behaviour and records exactly what arrived on the wire.
// Options add handlers for the other service-plugin methods (validate-configuration, quota-info,
// refresh-payload); a call to one of them without a handler answers 404 PROVIDER_NOT_FOUND.
package testprovider

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Call is one invoke request as the provider received it.
type Call struct {
	// Path is the method called, e.g. /v1/invoke (set for every method).
	Path              string
	ActionKey         string
	TriggerKey        string
	Request           map[string]any // the whole decoded body
	ActionParams      map[string]any
	ActivationContext map[string]any
	Header            http.Header
	Body              json.RawMessage
	At                time.Time
}

// Reply is what a handler answers: an HTTP status and a JSON body.
type Reply struct {
	Status int
	Body   any
}

// Handler decides the reply to one invoke call.
type Handler func(c Call) Reply

// Server is a running provider.
type Server struct {
	URL      string
	mu       sync.Mutex
	calls    []Call
	handlers map[string]Handler
	other    []Call
	methods  map[string]Handler // path + " " + action or trigger key
	hs       *httptest.Server
}

// Close stops the provider before the test ends (a provider that went away); calling it again is harmless.
func (s *Server) Close() { s.hs.Close() }

// Option configures a Server.
type Option func(*Server)

// On answers calls of a service-plugin method (a path such as /v1/validate-configuration) for one
// action or trigger key with h.
func On(path, key string, h Handler) Option {
	return func(s *Server) { s.methods[path+" "+key] = h }
}

// Result answers 200 {"result": result}: an IMMEDIATE completion.
func Result(result map[string]any) Handler {
	return func(Call) Reply { return Reply{Status: 200, Body: map[string]any{"result": result}} }
}

// Start runs a provider until the test ends; actions without a handler answer 200 {"result": {}}.
func Start(t testing.TB, handlers map[string]Handler, opts ...Option) *Server {
	s := &Server{handlers: handlers, methods: map[string]Handler{}}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/invoke", s.invoke)
	for _, p := range []string{"/v1/validate-configuration", "/v1/quota-info", "/v1/refresh-payload"} {
		mux.HandleFunc("POST "+p, s.method)
	}
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	s.URL, s.hs = hs.URL, hs
	return s
}

func (s *Server) invoke(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		ActionKey         string         `json:"actionKey"`
		ActionParams      map[string]any `json:"actionParams"`
		ActivationContext map[string]any `json:"activationContext"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := Call{Path: r.URL.Path, ActionKey: req.ActionKey, ActionParams: req.ActionParams, ActivationContext: req.ActivationContext,
		Header: r.Header.Clone(), Body: body, At: time.Now()}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	h := s.handlers[req.ActionKey]
	s.mu.Unlock()
	reply := Reply{Status: 200, Body: map[string]any{"result": map[string]any{}}}
	if h != nil {
		reply = h(c)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.Status)
	json.NewEncoder(w).Encode(reply.Body)
}

// Calls returns the invoke calls received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsFor returns the calls for one action key.
func (s *Server) CallsFor(actionKey string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.ActionKey == actionKey {
			out = append(out, c)
		}
	}
	return out
}

// method serves the service-plugin methods other than invoke.
func (s *Server) method(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := Call{Path: r.URL.Path, Request: req, Header: r.Header.Clone(), Body: body, At: time.Now()}
	c.ActionKey, _ = req["actionKey"].(string)
	c.TriggerKey, _ = req["triggerKey"].(string)
	key := c.ActionKey
	if key == "" {
		key = c.TriggerKey
	}
	s.mu.Lock()
	s.other = append(s.other, c)
	h := s.methods[r.URL.Path+" "+key]
	s.mu.Unlock()
	reply := Reply{Status: http.StatusNotFound, Body: map[string]any{"applicationError": map[string]any{"code": "PROVIDER_NOT_FOUND"}}}
	if h != nil {
		reply = h(c)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(reply.Status)
	if raw, ok := reply.Body.(json.RawMessage); ok {
		w.Write(raw)
		return
	}
	json.NewEncoder(w).Encode(reply.Body)
}

// MethodCalls returns the calls received so far for one method other than invoke (by path).
func (s *Server) MethodCalls(path string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.other {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}
