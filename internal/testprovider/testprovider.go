// Package testprovider is a real action provider for tests: an HTTP server on 127.0.0.1 that answers the
// service-plugin invoke call with per-action behaviour and records exactly what arrived on the wire.
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
	ActionKey         string
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
}

// Result answers 200 {"result": result}: an IMMEDIATE completion.
func Result(result map[string]any) Handler {
	return func(Call) Reply { return Reply{Status: 200, Body: map[string]any{"result": result}} }
}

// Start runs a provider until the test ends; actions without a handler answer 200 {"result": {}}.
func Start(t testing.TB, handlers map[string]Handler) *Server {
	s := &Server{handlers: handlers}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/invoke", s.invoke)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	s.URL = hs.URL
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
	c := Call{ActionKey: req.ActionKey, ActionParams: req.ActionParams, ActivationContext: req.ActivationContext,
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
