package plugins

import (
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/automation"
)

func TestSelectedFilterOptions(t *testing.T) {
	trig := &automation.Trigger{Filters: []automation.Filter{{ID: "f1", FieldKey: "formId"}, {ID: "f2", FieldKey: "formId"}, {ID: "f3"}},
		FilterValueSelection: &automation.FilterValueSelection{SelectedFilterValues: []string{
			"f1__a", "x__b", "f2__c", "f1__a__b", "novalue__", "__orphan", "plain", "f3__d"}}}
	got := mustJSON(t, SelectedFilterOptions(trig))
	want := `[{"fieldKey":"formId","values":["a","c","a__b"]},{"fieldKey":"x","values":["b"]},{"fieldKey":"novalue","values":[""]},{"fieldKey":"f3","values":["d"]}]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if SelectedFilterOptions(&automation.Trigger{}) != nil || SelectedFilterOptions(nil) != nil {
		t.Error("no selection must give no options")
	}
}

// FuzzSelectedFilterOptions: every selection with a filter id and "__" yields exactly one value, under
// its filter's field key or its own id; nothing else does.
func FuzzSelectedFilterOptions(f *testing.F) {
	f.Add("f1__a", "f1", "formId")
	f.Add("__x", "", "")
	f.Add("a__b__c", "a", "")
	f.Fuzz(func(t *testing.T, sel, filterID, fieldKey string) {
		trig := &automation.Trigger{Filters: []automation.Filter{{ID: filterID, FieldKey: fieldKey}},
			FilterValueSelection: &automation.FilterValueSelection{SelectedFilterValues: []string{sel, sel}}}
		out := SelectedFilterOptions(trig)
		id, value, ok := strings.Cut(sel, "__")
		if !ok || id == "" {
			if len(out) != 0 {
				t.Fatalf("%q gave %v", sel, out)
			}
			return
		}
		want := id
		if id == filterID && fieldKey != "" {
			want = fieldKey
		}
		if len(out) != 1 || out[0].FieldKey != want || len(out[0].Values) != 2 || out[0].Values[0] != value {
			t.Fatalf("%q with filter %q→%q gave %+v", sel, filterID, fieldKey, out)
		}
	})
}
