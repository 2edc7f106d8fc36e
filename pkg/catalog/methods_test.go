package catalog

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestImplementedMethodsWireForms(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{name: "Wix object of booleans", in: `{"validateConfiguration":true,"getQuotaInfo":true,"onRemove":false}`,
			want: []string{"getQuotaInfo", "validateConfiguration"}},
		{name: "list of names", in: `["getQuotaInfo","validateConfiguration","getQuotaInfo"]`,
			want: []string{"getQuotaInfo", "validateConfiguration"}},
		{name: "null is none", in: `null`, want: nil},
		{name: "empty object is none", in: `{}`, want: nil},
		{name: "non-boolean value", in: `{"getQuotaInfo":"yes"}`, wantErr: "cannot unmarshal string into Go struct field .implementedMethods"},
		{name: "list of numbers", in: `[1]`, wantErr: "cannot unmarshal array into Go struct field .implementedMethods"},
		{name: "scalar", in: `"getQuotaInfo"`, wantErr: "cannot unmarshal string into Go struct field .implementedMethods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a struct {
				M ImplementedMethods `json:"implementedMethods"`
			}
			err := json.Unmarshal([]byte(`{"implementedMethods":`+tt.in+`}`), &a)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := a.M.Names(); !slices.Equal(got, tt.want) {
				t.Fatalf("names = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestImplementedMethodsCheckAndRoundTrip(t *testing.T) {
	var act Action
	if err := json.Unmarshal([]byte(`{"actionKey":"sms","implementedMethods":["getQuotaInfo"]}`), &act); err != nil {
		t.Fatal(err)
	}
	if !act.ImplementedMethods.Has(MethodGetQuotaInfo) || act.ImplementedMethods.Has(MethodValidateConfiguration) {
		t.Fatalf("methods = %v", act.ImplementedMethods)
	}
	if err := act.ImplementedMethods.Check(ActionMethods); err != nil {
		t.Fatalf("getQuotaInfo is an action method: %v", err)
	}
	if err := act.ImplementedMethods.Check(TriggerMethods); err == nil || !strings.Contains(err.Error(), `"getQuotaInfo"`) {
		t.Fatalf("getQuotaInfo is not a trigger method, err = %v", err)
	}
	b, _ := json.Marshal(act)
	if !strings.Contains(string(b), `"implementedMethods":{"getQuotaInfo":true}`) {
		t.Fatalf("stored in Wix's object form: %s", b)
	}
	var none Action
	b, _ = json.Marshal(none)
	if strings.Contains(string(b), "implementedMethods") {
		t.Fatalf("absent methods are omitted: %s", b)
	}
}

// FuzzImplementedMethods: any input either fails to decode or survives a marshal round trip unchanged,
// and Check never panics.
func FuzzImplementedMethods(f *testing.F) {
	for _, s := range []string{`{"validateConfiguration":true}`, `["getQuotaInfo"]`, `null`, `{}`, `[]`, `{"a":false}`, `"x"`, `{"\u0000":true}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m ImplementedMethods
		if err := json.Unmarshal(b, &m); err != nil {
			return
		}
		_ = m.Check(ActionMethods)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back ImplementedMethods
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		if !slices.Equal(m.Names(), back.Names()) {
			t.Fatalf("round trip %v → %s → %v", m.Names(), out, back.Names())
		}
	})
}
