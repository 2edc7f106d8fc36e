package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestValidateTimeouts(t *testing.T) {
	t.Parallel()
	length := func(m int) *InvokeResponse {
		return &InvokeResponse{InvokeTimeoutType: InvokeTimeoutLength, TimeoutLengthOptions: &TimeoutLengthOptions{TimeoutInMinutes: m}}
	}
	date := func(d time.Time) *InvokeResponse {
		return &InvokeResponse{InvokeTimeoutType: InvokeTimeoutDate, TimeoutDateOptions: &TimeoutDateOptions{TimeoutDate: d}}
	}
	yearAhead := fixedNow.AddDate(1, 0, 0)
	tests := []struct {
		name   string
		r      *InvokeResponse
		valid  bool
		wantDL time.Time
	}{
		{"nil response", nil, false, time.Time{}},
		{"empty is immediate", &InvokeResponse{}, true, time.Time{}},
		{"immediate ignores bad options", &InvokeResponse{InvokeTimeoutType: InvokeImmediate, TimeoutLengthOptions: &TimeoutLengthOptions{}}, true, time.Time{}},
		{"1 minute", length(1), true, fixedNow.Add(time.Minute)},
		{"1440 minutes", length(1440), true, fixedNow.Add(24 * time.Hour)},
		{"0 minutes", length(0), false, time.Time{}},
		{"-5 minutes", length(-5), false, time.Time{}},
		{"1441 minutes", length(1441), false, time.Time{}},
		{"date 1ns ahead", date(fixedNow.Add(1)), true, fixedNow.Add(1)},
		{"date exactly now", date(fixedNow), false, time.Time{}},
		{"date exactly a year ahead", date(yearAhead), true, yearAhead},
		{"date a year and 1s ahead", date(yearAhead.Add(time.Second)), false, time.Time{}},
		{"date zero", date(time.Time{}), false, time.Time{}},
		{"date options missing", &InvokeResponse{InvokeTimeoutType: InvokeTimeoutDate}, false, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.r.Validate(fixedNow); (err == nil) != tt.valid {
				t.Errorf("Validate = %v, want valid=%v", err, tt.valid)
			}
			dl, ok := tt.r.Deadline(fixedNow)
			if ok != !tt.wantDL.IsZero() || !dl.Equal(tt.wantDL) {
				t.Errorf("Deadline = %v, %v; want %v", dl, ok, tt.wantDL)
			}
		})
	}
}

// goldenInvokeRequest exercises every field of the invoke request.
func goldenInvokeRequest() InvokeRequest {
	return InvokeRequest{
		ActionKey: "send-email",
		ActionParams: map[string]any{
			"to":      "jane@example.com",
			"subject": "Your registration to 2022 Event is Confirmed",
			"body":    "Hi Jane, you are confirmed for the event",
			"copies":  2,
		},
		ActivationContext: &ActivationContext{
			ActivationID:       "8d3d0b0e-3f9b-4c57-9a3c-1b1f4d0f5e01",
			EsbConfigurationID: "5b0c1f7e-2a7d-4a0e-8f0e-6f5d3c2b1a00",
			TriggerKey:         "form-submitted",
			TriggerAppID:       "0c3f9a8e-6a4b-4f1e-9a51-0e6b2f4d7c11",
			ActionID:           "f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f9",
			Payload: map[string]any{
				"contact": map[string]any{"id": "c-1", "email": "jane@example.com"},
				"form":    map[string]any{"name": "Registration"},
			},
			ActionAppID:     "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d",
			InvocationToken: "tok_abc123",
			ActivationSourceInfo: &ActivationSourceInfo{
				ActivationInitiationSource: SourceRerunActivation,
				RerunActivationInfo:        &RerunActivationInfo{OriginalActivationID: "1d2c3b4a-0000-4000-8000-000000000001", SkipDelays: true},
			},
			InitiatorInfo:    &InitiatorInfo{InitiatorUserID: "u-42", WixEmployee: false},
			PreinstalledInfo: &PreinstalledInfo{AppID: "7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d", ComponentID: "comp-9"},
			ForceSync:        true,
		},
	}
}

// TestInvokeRequestGolden pins the wire form of an invoke request (go test -update rewrites it).
func TestInvokeRequestGolden(t *testing.T) {
	t.Parallel()
	req := goldenInvokeRequest()
	raw, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteByte('\n')
	path := filepath.Join("testdata", "invoke_request.golden.json")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("marshalled InvokeRequest differs from %s (rerun with -update if intended)\n got:\n%s\nwant:\n%s", path, got.Bytes(), want)
	}

	// What goes on the wire is exactly json.Marshal of the request.
	p := &scripted{replies: []reply{{status: 200, body: `{"result":{}}`}}}
	c, _ := newTestClient(t, nil)
	if _, err := c.Invoke(context.Background(), Target{BaseURI: serve(t, p)}, req); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !bytes.Equal(p.bodies[0], raw) {
		t.Errorf("wire body\n%s\ndiffers from json.Marshal\n%s", p.bodies[0], raw)
	}

	// And it decodes back to the same request.
	var back InvokeRequest
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(back); !bytes.Equal(again, raw) {
		t.Errorf("golden file does not round-trip:\n%s\n%s", again, raw)
	}
}

// TestDecodeObservedResponse decodes the response an @wix/sdk provider was observed to send
// (reference §4.2 / §7.2).
func TestDecodeObservedResponse(t *testing.T) {
	t.Parallel()
	const observed = `{"result":{"ok":true,"id":"r1"},"invokeTimeoutType":"TIMEOUT_DATE","timeoutDateOptions":{"timeoutDate":"2030-01-01T00:00:00.000Z"}}`
	var r InvokeResponse
	if err := decodeJSON([]byte(observed), &r); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)
	dl, ok := r.Deadline(now)
	if !ok || !dl.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) || r.Result["id"] != "r1" {
		t.Errorf("decoded %+v, deadline %v %v", r, dl, ok)
	}
	if b, _ := json.Marshal(&r); string(b) != `{"result":{"id":"r1","ok":true},"invokeTimeoutType":"TIMEOUT_DATE","timeoutDateOptions":{"timeoutDate":"2030-01-01T00:00:00Z"}}` {
		t.Errorf("re-marshalled %s", b)
	}
}

func FuzzDecodeInvokeResponse(f *testing.F) {
	for _, s := range []string{
		`{"result":{"ok":true}}`,
		`{"invokeTimeoutType":"TIMEOUT_LENGTH","timeoutLengthOptions":{"timeoutInMinutes":"60"}}`,
		`{"invokeTimeoutType":"TIMEOUT_DATE","timeoutDateOptions":{"timeoutDate":"2026-06-01T00:00:00Z"}}`,
		`{"invokeTimeoutType":"TIMEOUT_DATE","timeoutDateOptions":null}`,
		`{"timeoutLengthOptions":{"timeoutInMinutes":1e400}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r InvokeResponse
		if err := decodeJSON(data, &r); err != nil {
			return
		}
		err := r.Validate(fixedNow)
		dl, ok := r.Deadline(fixedNow)
		if ok && err != nil {
			t.Fatalf("Deadline ok for an invalid response: %v", err)
		}
		if ok && (!dl.After(fixedNow) || dl.After(fixedNow.AddDate(1, 0, 0))) {
			t.Fatalf("deadline %v outside (now, now+1y]", dl)
		}
		if ok == (r.TimeoutType() == InvokeImmediate) && err == nil {
			t.Fatalf("type %s valid but Deadline ok=%v", r.TimeoutType(), ok)
		}
	})
}
