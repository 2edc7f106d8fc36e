package mapcheck

import (
	"reflect"
	"testing"
)

// FuzzCheck puts arbitrary strings into every kind of field of a fixed automation (string, number, integer,
// boolean, array and object inputs, a nested object, a condition, a set-variables mapping feeding the next
// action) and checks that Check and AvailableSchema never panic and are deterministic.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		"", "plain", "{{", "}}", "{{}}", `{{var("amount")}}`, `{{var("setVariable.x")}}`, "{{3.5}}", "{{true}}",
		`Hi {{var("contact.name.first")}} {{toString(var("amount"))}}`, `{{concat("a%40b.com";"%ZZ")}}`,
		`{{arraySome(var("formIds");contains(["a"];$_))}}`, "{{$}}", "{{$.contact}}", "{{ if(true;1) }}",
		`{{var("send_email-1.messageId")}}`, "{{contact.email}}", `{{var("")}}`, `{{var("a[0].b")}}`,
	} {
		f.Add(s)
	}
	cat := catalogFixture()
	f.Fuzz(func(t *testing.T, s string) {
		a := chain()
		m := input(a, "a1")
		for _, k := range []string{"to", "count", "price", "urgent", "tags", "meta"} {
			m[k] = s
		}
		m["body"] = map[string]any{"text": s, "html": s}
		input(a, "a3")["points"] = s
		input(a, "a3")["done"] = s
		a.Configuration.Actions["a2"].SetVariablesInfo.OutputMapping["x"] = s
		a.Configuration.Actions["a3"].SkipActionExpression = s
		a.Configuration.Trigger.Filters[0].FilterExpression = s
		a.Configuration.Trigger.Filters[1].FieldKey = s

		got := Check(a, cat)
		if again := Check(a, cat); !reflect.DeepEqual(got, again) {
			t.Fatalf("not deterministic:\n%+v\n%+v", got, again)
		}
		for _, is := range got {
			if is.ErrorType == "" || is.Message == "" {
				t.Fatalf("incomplete issue %+v", is)
			}
		}
		if _, err := AvailableSchema(a, "a3", cat); err != nil {
			t.Fatal(err)
		}
	})
}
