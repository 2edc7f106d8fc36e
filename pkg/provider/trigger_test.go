package provider

import (
	"context"
	"testing"
)

func TestRefreshPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		reply    reply
		req      RefreshPayloadRequest
		wantBody string
		want     string // re-marshalled response
		wantKind ErrorKind
	}{
		{name: "refreshed payload",
			reply:    reply{status: 200, body: `{"payload":{"status":"paid","total":12}}`},
			req:      RefreshPayloadRequest{TriggerKey: "order_placed", ExternalEntityID: "e1", Payload: map[string]any{"status": "new"}},
			wantBody: `{"triggerKey":"order_placed","externalEntityId":"e1","payload":{"status":"new"}}`,
			want:     `{"payload":{"status":"paid","total":12}}`},
		{name: "cancel without payload",
			reply:    reply{status: 200, body: `{"cancelActivation":true}`},
			req:      RefreshPayloadRequest{TriggerKey: "order_placed"},
			wantBody: `{"triggerKey":"order_placed","payload":{}}`,
			want:     `{"payload":null,"cancelActivation":true}`},
		{name: "no payload and no cancel is malformed",
			reply: reply{status: 200, body: `{}`}, req: RefreshPayloadRequest{TriggerKey: "k"}, wantKind: Malformed},
		{name: "payload not an object",
			reply: reply{status: 200, body: `{"payload":[1]}`}, req: RefreshPayloadRequest{TriggerKey: "k"}, wantKind: Malformed},
		{name: "provider error",
			reply: reply{status: 404, body: `{"applicationError":{"code":"PROVIDER_NOT_FOUND"}}`}, req: RefreshPayloadRequest{TriggerKey: "k"}, wantKind: ClientError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &scripted{replies: []reply{tt.reply}}
			c, _ := newTestClient(t, func(o *Options) { o.Retry.MaxAttempts = 1 })
			got, err := c.RefreshPayload(context.Background(), Target{BaseURI: serve(t, p)}, tt.req)
			if tt.wantKind != "" {
				if e := asError(t, err); e.Kind != tt.wantKind {
					t.Fatalf("kind %s (%s), want %s", e.Kind, e.Description, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p.mu.Lock()
			path, body := p.reqs[0].URL.Path, string(p.bodies[0])
			p.mu.Unlock()
			if path != PathRefreshPayload || body != tt.wantBody {
				t.Errorf("request %s %s\nwant %s %s", path, body, PathRefreshPayload, tt.wantBody)
			}
			if g := mustJSON(t, got); g != tt.want {
				t.Errorf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
}

func TestValidateTriggerConfiguration(t *testing.T) {
	t.Parallel()
	p := &scripted{replies: []reply{{status: 200, body: `{"valid":false,"configurationErrors":[{"fieldKey":"formId","message":"Form was deleted","title":"Unknown form"}]}`}}}
	c, _ := newTestClient(t, nil)
	got, err := c.ValidateTriggerConfiguration(context.Background(), Target{BaseURI: serve(t, p)}, TriggerValidateConfigurationRequest{
		TriggerKey: "form_submitted", SelectedFilterOptions: []SelectedFilterOption{{FieldKey: "formId", Values: []string{"f1", "f2"}}},
		AutomationConfigMapping: map[string]any{"notify": true}})
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	path, body := p.reqs[0].URL.Path, string(p.bodies[0])
	p.mu.Unlock()
	wantBody := `{"triggerKey":"form_submitted","selectedFilterOptions":[{"fieldKey":"formId","values":["f1","f2"]}],"automationConfigMapping":{"notify":true}}`
	if path != PathTriggerValidateConfiguration || body != wantBody {
		t.Errorf("request %s %s\nwant %s", path, body, wantBody)
	}
	if got.Valid || len(got.ConfigurationErrors) != 1 || got.ConfigurationErrors[0].Title != "Unknown form" {
		t.Errorf("got %+v", got)
	}
}
