package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/api"
	"github.com/switchyard-dev/switchyard/pkg/store/sqlite"
)

// panickingStore panics where every request with a site key starts: looking the key up.
type panickingStore struct{ *sqlite.Store }

func (panickingStore) GetAPIKeyByHash(context.Context, string) (*access.APIKey, error) {
	panic("store exploded")
}

// TestPanicsAnswerIn500s: a bug answers 500 in the route family's own error shape — Wix's for the Wix
// API, Piggy's for Piggy's — with no trace of the panic's text, and the server keeps serving.
func TestPanicsAnswerIn500s(t *testing.T) {
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(api.NewServer(api.Config{Store: panickingStore{store}, AdminKeyHash: access.Hash(adminKey)}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct{ name, path, wantKey string }{
		{"wix", "/v2/automations/query", "message"},
		{"piggy", "/api/v3/oauth/clients/automations", "status_code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := http.MethodGet
			if tc.name == "wix" {
				method = http.MethodPost
			}
			req, _ := http.NewRequest(method, srv.URL+tc.path, nil)
			req.Header.Set("Authorization", "Bearer sy_some_site_key")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var body map[string]any
			if resp.StatusCode != http.StatusInternalServerError || json.Unmarshal(raw, &body) != nil || body[tc.wantKey] == nil {
				t.Fatalf("status %d, body %s: want 500 with %q", resp.StatusCode, raw, tc.wantKey)
			}
			if strings.Contains(string(raw), "store exploded") {
				t.Fatalf("the panic's text leaked: %s", raw)
			}
		})
	}
}
