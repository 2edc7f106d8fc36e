package automation

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeAndValidate feeds arbitrary request bodies through what CreateAutomation does before it
// stores anything: decode, Normalize, ValidateForSave. None of it may panic or loop.
func FuzzDecodeAndValidate(f *testing.F) {
	good, _ := json.Marshal(map[string]any{"automation": base()})
	f.Add(good)
	f.Add([]byte(`{"automation":{"configuration":{"rootActionIds":["x"],"actions":{"x":null}}}}`))
	f.Add([]byte(`{"automation":{"name":"n","origin":"USER","configuration":{"status":"ACTIVE","trigger":{},"rootActionIds":[],"actions":{"a":{"type":"CONDITION","conditionInfo":{}}}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req struct {
			Automation *Automation `json:"automation"`
		}
		if json.Unmarshal(body, &req) != nil || req.Automation == nil {
			return
		}
		Normalize(req.Automation)
		_ = ValidateForSave(req.Automation)
	})
}
