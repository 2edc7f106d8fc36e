package schema

import (
	"fmt"
	"maps"
	"slices"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// CheckPayloadKeys applies Wix's payload rules for reported events (reference §3.1): key names hold only
// A-Z, a-z, 0-9 and '_' and do not start with '_'; values are strings, numbers, booleans or arrays; array
// items are objects whose properties are scalars. Null is accepted as "no value".
func CheckPayloadKeys(payload map[string]any, prefix string) []errs.FieldViolation {
	var out []errs.FieldViolation
	for _, k := range slices.Sorted(maps.Keys(payload)) {
		f := prefix + "." + k
		if !validKey(k) {
			out = append(out, errs.FieldViolation{Field: f, ViolatedRule: "PAYLOAD_KEY",
				Description: "key names may hold only letters, digits and '_' and must not start with '_'"})
			continue
		}
		switch v := payload[k].(type) {
		case nil, string, float64, bool:
		case []any:
			for i, item := range v {
				obj, ok := item.(map[string]any)
				if !ok {
					out = append(out, errs.FieldViolation{Field: fmt.Sprintf("%s[%d]", f, i), ViolatedRule: "PAYLOAD_VALUE",
						Description: "array items must be objects"})
					continue
				}
				for _, ik := range slices.Sorted(maps.Keys(obj)) {
					switch obj[ik].(type) {
					case nil, string, float64, bool:
					default:
						out = append(out, errs.FieldViolation{Field: fmt.Sprintf("%s[%d].%s", f, i, ik), ViolatedRule: "PAYLOAD_VALUE",
							Description: "properties of array items must be strings, numbers or booleans"})
					}
				}
			}
		default:
			out = append(out, errs.FieldViolation{Field: f, ViolatedRule: "PAYLOAD_VALUE",
				Description: "values must be strings, numbers, booleans or arrays of objects"})
		}
	}
	return out
}

func validKey(k string) bool {
	if k == "" || k[0] == '_' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
