package catalog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Service-plugin methods as Wix names them in ImplementedMethods (reference §4.2, §4.4). Invoke is not
// among them: every action provider implements it.
const (
	MethodValidateConfiguration = "validateConfiguration"
	MethodGetQuotaInfo          = "getQuotaInfo"
	MethodRefreshPayload        = "refreshPayload"
	MethodGetDynamicSchema      = "getDynamicSchema"
)

// ActionMethods are the names an action's implementedMethods may carry (Wix's ActionSPIConfig); only
// validateConfiguration and getQuotaInfo are called by Switchyard today, the rest are accepted and kept.
var ActionMethods = []string{
	MethodValidateConfiguration, "duplicateInputMapping", "generateApplicationAutomationInputMapping",
	MethodGetQuotaInfo, "onBeforeSave", "onReset", "generateActionInputMappingFromTemplate", "onRemove",
	"getDynamicInputSchema", "mergeInputMappings", "getDynamicOutputSchema",
}

// TriggerMethods are the names a trigger's implementedMethods may carry (Wix's trigger catalog);
// validateConfiguration and refreshPayload are called.
var TriggerMethods = []string{
	MethodValidateConfiguration, MethodGetDynamicSchema, MethodRefreshPayload, "onAutomationSaved", "onAutomationDeleted",
}

// ImplementedMethods says which service-plugin methods a provider implements. On the wire it is Wix's
// object of booleans ({"validateConfiguration": true}); a list of names is accepted too. Absent means
// none: the platform then calls only invoke (actions) and nothing at all (triggers).
type ImplementedMethods map[string]bool

// Has reports whether the method is declared implemented.
func (m ImplementedMethods) Has(method string) bool { return m[method] }

// UnmarshalJSON reads either wire form. Names are not checked here (ParseImplementedMethods does that,
// knowing whether they belong to an action or a trigger); a stored record therefore always loads.
func (m *ImplementedMethods) UnmarshalJSON(b []byte) error {
	out, err := decodeMethods(b)
	if err != nil {
		return err
	}
	*m = out
	return nil
}

// MarshalJSON writes the implemented methods only, sorted, as Wix's object of booleans.
func (m ImplementedMethods) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, k := range m.Names() {
		if !first {
			b.WriteByte(',')
		}
		first = false
		name, _ := json.Marshal(k)
		b.Write(name)
		b.WriteString(":true")
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Names lists the implemented methods, sorted.
func (m ImplementedMethods) Names() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] {
			out = append(out, k)
		}
	}
	return out
}

func decodeMethods(b []byte) (ImplementedMethods, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	out := ImplementedMethods{}
	switch b[0] {
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			return nil, err
		}
		for k, raw := range obj {
			var v bool
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, shapeError(raw)
			}
			if v {
				out[k] = true
			}
		}
	case '[':
		var names []string
		if err := json.Unmarshal(b, &names); err != nil {
			return nil, shapeError(b)
		}
		for _, n := range names {
			out[n] = true
		}
	default:
		return nil, shapeError(b)
	}
	return out, nil
}

// shapeError is a type error, so that a request decoder names the field it happened in.
func shapeError(b []byte) error {
	v := "value"
	switch b = bytes.TrimSpace(b); {
	case len(b) == 0:
	case b[0] == '"':
		v = "string"
	case b[0] == '[':
		v = "array"
	case b[0] == '{':
		v = "object"
	case b[0] == 't' || b[0] == 'f':
		v = "bool"
	default:
		v = "number"
	}
	return &json.UnmarshalTypeError{Value: v, Type: reflect.TypeOf(ImplementedMethods{})}
}

// Check returns an error naming the first method (in sorted order) that is not in allowed
// (ActionMethods or TriggerMethods).
func (m ImplementedMethods) Check(allowed []string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("unknown method %q; known: %s", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}
