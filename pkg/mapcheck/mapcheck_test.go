package mapcheck

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard-dev/switchyard/pkg/automation"
)

var update = flag.Bool("update", false, "rewrite golden files")

type def struct{ in, out string }

// testCatalog is a map-backed Catalog.
type testCatalog struct {
	triggers map[string]string
	actions  map[string]def
}

func (c testCatalog) Trigger(appID, key string) (json.RawMessage, bool) {
	s, ok := c.triggers[appID+"/"+key]
	return json.RawMessage(s), ok
}

func (c testCatalog) Action(appID, key string) (json.RawMessage, json.RawMessage, bool) {
	d, ok := c.actions[appID+"/"+key]
	return json.RawMessage(d.in), json.RawMessage(d.out), ok
}

const triggerSchema = `{
  "type": "object",
  "properties": {
    "formId": {"type": "string"},
    "formIds": {"type": "array", "items": {"type": "string"}},
    "forms": {"type": "array", "items": {"type": "object", "properties": {
      "data": {"type": "object", "properties": {"id": {"type": "string"}}}}}},
    "contact": {"$ref": "#/definitions/contact"},
    "amount": {"type": "number"},
    "paid": {"type": "boolean"},
    "submittedAt": {"type": "string", "format": "date-time"}
  },
  "definitions": {
    "contact": {"type": "object", "properties": {
      "email": {"type": "string"},
      "name": {"type": "object", "properties": {"first": {"type": "string"}}}}}
  }
}`

func catalogFixture() testCatalog {
	return testCatalog{
		triggers: map[string]string{"app-t/form_submitted": triggerSchema},
		actions: map[string]def{
			"app-a/send_email": {
				in: `{"type": "object", "required": ["to", "body"], "properties": {
				  "to": {"type": "string"},
				  "body": {"type": "object", "required": ["text"], "properties": {
				    "text": {"type": "string"}, "html": {"type": "boolean"}}},
				  "count": {"type": "integer"},
				  "price": {"type": "number"},
				  "urgent": {"type": "boolean"},
				  "tags": {"type": "array", "items": {"type": "string"}},
				  "meta": {"type": "object"}}}`,
				out: `{"type": "object", "properties": {"messageId": {"type": "string"}, "sentCount": {"type": "integer"}}}`,
			},
			"app-a/create_task": {
				in: `{"type": "object", "properties": {"title": {"type": "string"}, "points": {"type": "number"},
				  "done": {"type": ["boolean", "null"]}}}`,
				out: `{"type": "object", "properties": {"taskId": {"type": "string"}, "owner": {"$ref": "#/$defs/user"}},
				  "$defs": {"user": {"type": "object", "properties": {"id": {"type": "string"}}}}}`,
			},
			"app-a/no_output": {in: `{"type": "object", "properties": {"x": {"type": "string"}}}`},
			"app-a/odd": {
				in: `{"type": "object", "properties": {
				  "loop": {"$ref": "#/definitions/loop"},
				  "ext": {"$ref": "https://example.com/schema.json"},
				  "yes": true, "no": false, "weird": 5,
				  "deep": {"$ref": "#/definitions/a"}},
				  "definitions": {"loop": {"$ref": "#/definitions/loop"},
				    "a": {"$ref": "#/definitions/b"}, "b": {"type": "integer"}}}`,
				out: `true`,
			},
			"app-a/bool_schema": {in: `true`, out: `false`},
		},
	}
}

func ptr(s string) *string { return &s }

// chain: trigger → a1 send_email → a2 SET_VARIABLES → a3 create_task.
func chain() *automation.Automation {
	return &automation.Automation{
		Name: "chain",
		Configuration: &automation.Configuration{
			Trigger: &automation.Trigger{AppID: "app-t", TriggerKey: "form_submitted", Filters: []automation.Filter{
				{ID: "f1", FieldKey: "formId", FilterExpression: `{{contains(["f-1","f-2"];var("formId"))}}`},
				{ID: "f2", FieldKey: "formIds[0]", FilterExpression: `{{arraySome(["f-1"];contains(var("formIds");$_))}}`},
				{ID: "f3", FieldKey: "forms[0].data.id", FilterExpression: `{{arraySome(["f-1"];contains(arrayMap(var("forms");"data.id");$_))}}`},
			}},
			RootActionIDs: []string{"a1"},
			Actions: map[string]*automation.Action{
				"a1": {ID: "a1", Type: automation.TypeAppDefined, Namespace: "send_email-1", AppDefinedInfo: &automation.AppDefinedInfo{
					AppID: "app-a", ActionKey: "send_email", PostActionIDs: []string{"a2"},
					InputMapping: map[string]any{
						"to":   `{{var("contact.email")}}`,
						"body": map[string]any{"text": `Hi {{var("contact.name.first")}}, you paid {{toString(var("amount"))}}`, "html": "{{false}}"},
					},
				}},
				"a2": {ID: "a2", Type: automation.TypeSetVariables, Namespace: "setVariable", SetVariablesInfo: &automation.SetVariablesInfo{
					PostActionIDs: []string{"a3"},
					OutputMapping: map[string]any{
						"total":   `{{multiply(var("amount");2)}}`,
						"label":   `Sent {{var("send_email-1.messageId")}}`,
						"msg":     `{{var("send_email-1.messageId")}}`,
						"flag":    `{{boolEq(var("paid");true)}}`,
						"literal": 5.0,
						"owner":   `{{if(var("paid");"a";"b")}}`,
					},
				}},
				"a3": {ID: "a3", Type: automation.TypeAppDefined, Namespace: "create_task-1", AppDefinedInfo: &automation.AppDefinedInfo{
					AppID: "app-a", ActionKey: "create_task",
					InputMapping: map[string]any{
						"title":  `{{var("send_email-1.messageId")}} / {{var("setVariable.label")}}`,
						"points": `{{var("setVariable.total")}}`,
						"done":   `{{var("setVariable.flag")}}`,
					},
				}},
			},
		},
	}
}

func appDefined(a *automation.Automation, id string) *automation.AppDefinedInfo {
	return a.Configuration.Actions[id].AppDefinedInfo
}

func input(a *automation.Automation, id string) map[string]any {
	return appDefined(a, id).InputMapping
}

// addBranches turns a1's successor into a CONDITION whose true branch is send_email "b1" (namespace
// branch-a) and false branch create_task "b2".
func addBranches(a *automation.Automation, b2Mapping map[string]any) {
	acts := a.Configuration.Actions
	appDefined(a, "a3").PostActionIDs = []string{"c1"}
	acts["c1"] = &automation.Action{ID: "c1", Type: automation.TypeCondition, ConditionInfo: &automation.ConditionInfo{
		OrExpressionGroups: []automation.ConditionExpressionGroup{{Operator: "AND", BooleanExpressions: []string{`{{var("paid")}}`}}},
		TruePostActionIDs:  []string{"b1"}, FalsePostActionIDs: []string{"b2"},
	}}
	acts["b1"] = &automation.Action{ID: "b1", Type: automation.TypeAppDefined, Namespace: "branch-a", AppDefinedInfo: &automation.AppDefinedInfo{
		AppID: "app-a", ActionKey: "send_email",
		InputMapping: map[string]any{"to": "x@example.com", "body": map[string]any{"text": "hi"}},
	}}
	acts["b2"] = &automation.Action{ID: "b2", Type: automation.TypeAppDefined, Namespace: "branch-b", AppDefinedInfo: &automation.AppDefinedInfo{
		AppID: "app-a", ActionKey: "create_task", InputMapping: b2Mapping,
	}}
}

func addAction(a *automation.Automation, after string, act *automation.Action) {
	info := appDefined(a, after)
	info.PostActionIDs = append(info.PostActionIDs, act.ID)
	a.Configuration.Actions[act.ID] = act
}

func summary(issues []Issue) []string {
	out := []string{}
	for _, is := range issues {
		out = append(out, is.ActionID+"|"+is.ErrorType+"|"+is.FieldKey)
	}
	return out
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *automation.Automation)
		want   []string
	}{
		// ---- valid shapes ----
		{name: "valid chain: nested input, namespaces, setVariable, filters", mutate: func(*automation.Automation) {}},
		{name: "valid legacy bare-path vars", mutate: func(a *automation.Automation) {
			input(a, "a1")["to"] = "{{contact.email}}"
			input(a, "a3")["title"] = "{{send_email-1.messageId}} {{$.contact.name.first}}"
			input(a, "a3")["points"] = "{{amount}}"
		}},
		{name: "valid URI-encoded literals", mutate: func(a *automation.Automation) {
			input(a, "a1")["to"] = `{{concat("a%40b.com";"%20";var("formId"))}}`
			input(a, "a3")["title"] = `{{"caf%C3%A9%20%7B%7D"}}`
		}},
		{name: "valid scalar targets: literals and single typed expressions", mutate: func(a *automation.Automation) {
			m := input(a, "a1")
			m["count"] = " 3 "
			m["price"] = `{{var("amount")}}`
			m["urgent"] = "true"
			m["tags"] = `{{arrayMap(var("forms");"data.id")}}`
			m["meta"] = `{{var("contact")}}`
			input(a, "a3")["points"] = `{{var("send_email-1.sentCount")}}`
			input(a, "a3")["done"] = `{{if(var("paid");true;false)}}`
			m2 := input(a, "a1")["body"].(map[string]any)
			m2["html"] = `{{ var("paid") }}`
		}},
		{name: "valid JSON literals and null", mutate: func(a *automation.Automation) {
			m := input(a, "a1")
			m["count"] = 4.0
			m["price"] = 4.5
			m["urgent"] = true
			m["tags"] = []any{"a", `{{var("formId")}}`}
			m["meta"] = map[string]any{"free": `{{var("formId")}}`}
			input(a, "a3")["done"] = nil
			input(a, "a3")["points"] = `{{null}}`
		}},
		{name: "valid control flow: condition, delay, rate limit, skip", mutate: func(a *automation.Automation) {
			addBranches(a, map[string]any{"title": `{{var("create_task-1.owner.id")}}`})
			acts := a.Configuration.Actions
			appDefined(a, "b1").PostActionIDs = []string{"d1"}
			acts["d1"] = &automation.Action{ID: "d1", Type: automation.TypeDelay, DelayInfo: &automation.DelayInfo{
				OffsetExpression: ptr("{{3}}"), OffsetTimeUnit: "DAYS",
				DueDateExpression: ptr(`{{subtractFromDate(var("submittedAt");0;0;1)}}`), PostActionIDs: []string{"r1"}}}
			acts["r1"] = &automation.Action{ID: "r1", Type: automation.TypeRateLimit, RateLimitInfo: &automation.RateLimitInfo{
				MaxActivationsExpression: "{{1}}", RateLimitDurationExpression: ptr("{{24}}"),
				UniqueIdentifierExpression: ptr(`{{var("branch-a.messageId")}}`)}}
			appDefined(a, "a3").SkipConditionOrExpressionGroups = []automation.ConditionExpressionGroup{
				{BooleanExpressions: []string{`{{stringEq(var("setVariable.msg");"x")}}`}}}
			acts["a3"].SkipActionExpression = "{{true}}"
		}},
		{name: "valid: second action maps the first's output by default namespace", mutate: func(a *automation.Automation) {
			acts := a.Configuration.Actions
			acts["a1"].Namespace = "" // the engine falls back to the action key
			input(a, "a3")["title"] = `{{var("send_email.messageId")}}`
			acts["a2"].SetVariablesInfo.OutputMapping = map[string]any{"total": "{{1}}", "flag": "{{true}}", "label": "x"}
		}},
		{name: "valid: trigger override schema and output override", mutate: func(a *automation.Automation) {
			a.Configuration.Trigger.OverrideSchema = map[string]any{"type": "object", "properties": map[string]any{
				"formId": map[string]any{"type": "string"}, "formIds": map[string]any{"type": "array"},
				"forms": map[string]any{"type": "array"}, "amount": map[string]any{"type": "number"},
				"paid": map[string]any{"type": "boolean"}, "contact": map[string]any{"type": "object"}}}
			appDefined(a, "a1").OverrideOutputSchema = map[string]any{"type": "object", "properties": map[string]any{
				"messageId": map[string]any{"type": "string"}, "extra": map[string]any{"type": "string"}}}
			input(a, "a3")["title"] = `{{var("send_email-1.extra")}}`
		}},
		{name: "valid: SET_VARIABLES outputSchema wins", mutate: func(a *automation.Automation) {
			a.Configuration.Actions["a2"].SetVariablesInfo.OutputSchema = map[string]any{"type": "object", "properties": map[string]any{
				"total": map[string]any{"type": "integer"}, "label": map[string]any{"type": "string"},
				"flag": map[string]any{"type": "boolean"}}}
		}},
		{name: "odd schemas never panic and are lenient", mutate: func(a *automation.Automation) {
			addAction(a, "a3", &automation.Action{ID: "o1", Type: automation.TypeAppDefined, AppDefinedInfo: &automation.AppDefinedInfo{
				AppID: "app-a", ActionKey: "odd", PostActionIDs: []string{"o2"}, InputMapping: map[string]any{
					"loop": "text {{var(\"amount\")}}", "ext": "x", "yes": "{{1}}", "no": "y", "weird": "z",
					"deep": "{{var(\"amount\")}}"}}})
			a.Configuration.Actions["o2"] = &automation.Action{ID: "o2", Type: automation.TypeAppDefined, AppDefinedInfo: &automation.AppDefinedInfo{
				AppID: "app-a", ActionKey: "bool_schema", InputMapping: map[string]any{
					"anything": `{{var("odd.whatever.deep")}}`}}}
		}},

		// ---- trigger errors ----
		{name: "trigger NOT_FOUND", mutate: func(a *automation.Automation) {
			a.Configuration.Trigger.TriggerKey = "nope"
		}, want: []string{"|NOT_FOUND|"}},
		{name: "INVALID_FILTER_EXPRESSION", mutate: func(a *automation.Automation) {
			a.Configuration.Trigger.Filters[0].FilterExpression = `{{contains(["f-1";var("formId"))}}`
		}, want: []string{"|INVALID_FILTER_EXPRESSION|formId"}},
		{name: "INVALID_FILTER_FIELD_KEY", mutate: func(a *automation.Automation) {
			f := a.Configuration.Trigger.Filters
			f[0].FieldKey = "formid"
			f[1].FieldKey = "formId[0]"
			f[2].FieldKey = "forms[0].data.name"
		}, want: []string{"|INVALID_FILTER_FIELD_KEY|formId[0]", "|INVALID_FILTER_FIELD_KEY|formid", "|INVALID_FILTER_FIELD_KEY|forms[0].data.name"}},

		// ---- action errors ----
		{name: "action NOT_FOUND", mutate: func(a *automation.Automation) {
			appDefined(a, "a1").ActionKey = "gone"
			appDefined(a, "a1").InputMapping["x"] = `{{var("nope")}}`
		}, want: []string{"a1|NOT_FOUND|", "a1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|x"}},
		{name: "INVALID_MAPPING in a nested input", mutate: func(a *automation.Automation) {
			input(a, "a1")["body"].(map[string]any)["text"] = `Hi {{var("contact.email")`
		}, want: []string{"a1|INVALID_MAPPING|body.text"}},
		{name: "MAPPING_VARIABLE_MISSING_FROM_SCHEMA", mutate: func(a *automation.Automation) {
			input(a, "a1")["to"] = `{{var("contact.phone")}}`
			input(a, "a1")["body"].(map[string]any)["text"] = `{{var("send_email-1.messageId")}} {{amount.cents}}` // own output; scalar
			input(a, "a3")["title"] = `{{var("setVariable.nope")}} {{var("forms.data")}}`
		}, want: []string{
			"a1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|body.text", "a1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|body.text",
			"a1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|to",
			"a3|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|title", "a3|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|title"}},
		{name: "setVariable before SET_VARIABLES is missing", mutate: func(a *automation.Automation) {
			input(a, "a1")["to"] = `{{var("setVariable.label")}}`
		}, want: []string{"a1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|to"}},
		{name: "sibling branch may not map another branch's output", mutate: func(a *automation.Automation) {
			addBranches(a, map[string]any{"title": `{{var("branch-a.messageId")}}`, "points": `{{var("send_email-1.sentCount")}}`})
		}, want: []string{"b2|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|title"}},
		{name: "action without output schema has no outputs", mutate: func(a *automation.Automation) {
			addAction(a, "a1", &automation.Action{ID: "n1", Type: automation.TypeAppDefined, Namespace: "no_output-1",
				AppDefinedInfo: &automation.AppDefinedInfo{AppID: "app-a", ActionKey: "no_output", PostActionIDs: []string{"n2"}}})
			a.Configuration.Actions["n2"] = &automation.Action{ID: "n2", Type: automation.TypeAppDefined, AppDefinedInfo: &automation.AppDefinedInfo{
				AppID: "app-a", ActionKey: "no_output", InputMapping: map[string]any{"x": `{{var("no_output-1.x")}}`}}}
		}, want: []string{"n2|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|x"}},
		{name: "MAPPING_MISSING_REQUIRED_FIELD top-level and nested", mutate: func(a *automation.Automation) {
			delete(input(a, "a1"), "to")
			input(a, "a1")["body"] = map[string]any{"text": "  ", "html": "{{true}}"}
		}, want: []string{"a1|MAPPING_MISSING_REQUIRED_FIELD|body.text", "a1|MAPPING_MISSING_REQUIRED_FIELD|to"}},
		{name: "required object given as one expression is not walked", mutate: func(a *automation.Automation) {
			input(a, "a1")["body"] = `{{var("contact")}}`
		}},
		{name: "nil input mapping misses every required field", mutate: func(a *automation.Automation) {
			appDefined(a, "a1").InputMapping = nil
		}, want: []string{"a1|MAPPING_MISSING_REQUIRED_FIELD|body", "a1|MAPPING_MISSING_REQUIRED_FIELD|to"}},
		{name: "MAPPING_TYPE_MISMATCH", mutate: func(a *automation.Automation) {
			m := input(a, "a1")
			m["count"] = "abc"                           // not a number literal
			m["price"] = "total: {{sum(1;2)}}"           // text into a number
			m["urgent"] = `{{sum(1;2)}}`                 // math is a number
			m["tags"] = "a, b"                           // text into an array
			m["meta"] = `{{var("formId")}} {{"x"}}`      // not a single expression
			m["body"].(map[string]any)["html"] = "{{1}}" // number into a boolean
			input(a, "a3")["points"] = `{{var("contact.email")}}`
			input(a, "a3")["done"] = `{{lower("TRUE")}}`
		}, want: []string{
			"a1|MAPPING_TYPE_MISMATCH|body.html", "a1|MAPPING_TYPE_MISMATCH|count", "a1|MAPPING_TYPE_MISMATCH|meta",
			"a1|MAPPING_TYPE_MISMATCH|price", "a1|MAPPING_TYPE_MISMATCH|tags", "a1|MAPPING_TYPE_MISMATCH|urgent",
			"a3|MAPPING_TYPE_MISMATCH|done", "a3|MAPPING_TYPE_MISMATCH|points"}},
		{name: "MAPPING_TYPE_MISMATCH for integers, JSON literals and variable types", mutate: func(a *automation.Automation) {
			m := input(a, "a1")
			m["count"] = "{{3.5}}"
			m["price"] = true
			m["urgent"] = `{{var("setVariable.total")}}` // setVariable is not yet set: missing, not mismatched
			m["tags"] = map[string]any{"a": "b"}
			m["meta"] = []any{"x"}
			m["to"] = 5.0
			input(a, "a3")["points"] = `{{var("setVariable.label")}}` // mixed text → string
		}, want: []string{
			"a1|MAPPING_TYPE_MISMATCH|count", "a1|MAPPING_TYPE_MISMATCH|meta", "a1|MAPPING_TYPE_MISMATCH|price",
			"a1|MAPPING_TYPE_MISMATCH|tags", "a1|MAPPING_TYPE_MISMATCH|to", "a1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|urgent",
			"a3|MAPPING_TYPE_MISMATCH|points"}},
		{name: "condition errors", mutate: func(a *automation.Automation) {
			addBranches(a, nil)
			a.Configuration.Actions["c1"].ConditionInfo.OrExpressionGroups = []automation.ConditionExpressionGroup{
				{BooleanExpressions: []string{`{{numberGt(var("amount");5)}}`, `{{numberGt(var("amount"))}}`}},
				{BooleanExpressions: []string{`{{isEmpty(var("branch-a.messageId"))}}`}},
			}
		}, want: []string{
			"c1|INVALID_MAPPING|orExpressionGroups[0].booleanExpressions[1]",
			"c1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|orExpressionGroups[1].booleanExpressions[0]"}},
		{name: "skip condition errors", mutate: func(a *automation.Automation) {
			appDefined(a, "a1").SkipConditionOrExpressionGroups = []automation.ConditionExpressionGroup{
				{BooleanExpressions: []string{`{{boolEq(var("setVariable.flag");true)}}`}}}
			a.Configuration.Actions["a3"].SkipActionExpression = "{{tru e}}"
		}, want: []string{
			"a1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|skipConditionOrExpressionGroups[0].booleanExpressions[0]",
			"a3|INVALID_MAPPING|skipActionExpression"}},
		{name: "delay and rate limit errors", mutate: func(a *automation.Automation) {
			acts := a.Configuration.Actions
			appDefined(a, "a3").PostActionIDs = []string{"d1"}
			acts["d1"] = &automation.Action{ID: "d1", Type: automation.TypeDelay, DelayInfo: &automation.DelayInfo{
				OffsetExpression: ptr("{{3"), DueDateEpochExpression: ptr(`{{var("dueAt")}}`), PostActionIDs: []string{"r1"}}}
			acts["r1"] = &automation.Action{ID: "r1", Type: automation.TypeRateLimit, RateLimitInfo: &automation.RateLimitInfo{
				MaxActivationsExpression: "{{nope(1)}}", UniqueIdentifierExpression: ptr(`{{var("contact.id")}}`)}}
		}, want: []string{
			"d1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|dueDateEpochExpression", "d1|INVALID_MAPPING|offsetExpression",
			"r1|INVALID_MAPPING|maxActivationsExpression", "r1|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|uniqueIdentifierExpression"}},
		{name: "SET_VARIABLES output mapping errors", mutate: func(a *automation.Automation) {
			a.Configuration.Actions["a2"].SetVariablesInfo.OutputMapping["bad"] = "{{"
			a.Configuration.Actions["a2"].SetVariablesInfo.OutputMapping["gone"] = `{{var("create_task-1.taskId")}}`
		}, want: []string{"a2|INVALID_MAPPING|outputMapping.bad", "a2|MAPPING_VARIABLE_MISSING_FROM_SCHEMA|outputMapping.gone"}},
		{name: "POST_ACTION_NOT_FOUND", mutate: func(a *automation.Automation) {
			addBranches(a, nil)
			appDefined(a, "a3").PostActionIDs = []string{"zz", "c1"}
			a.Configuration.Actions["c1"].ConditionInfo.FalsePostActionIDs = []string{"b2", "missing"}
		}, want: []string{"a3|POST_ACTION_NOT_FOUND|postActionIds[0]", "c1|POST_ACTION_NOT_FOUND|falsePostActionIds[1]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := chain()
			tc.mutate(a)
			got := Check(a, catalogFixture())
			want := tc.want
			if want == nil {
				want = []string{}
			}
			if s := summary(got); !reflect.DeepEqual(s, want) {
				t.Errorf("issues:\n got  %q\n want %q\nfull: %+v", s, want, got)
			}
			for _, is := range got {
				if is.Message == "" {
					t.Errorf("issue without message: %+v", is)
				}
			}
			// Deterministic.
			if again := Check(a, catalogFixture()); !reflect.DeepEqual(again, got) {
				t.Errorf("second run differs:\n%+v\n%+v", again, got)
			}
		})
	}
}

func TestCheckGraphOrder(t *testing.T) {
	a := chain()
	a.Configuration.Trigger.TriggerKey = "nope"
	input(a, "a3")["points"] = "x"
	input(a, "a1")["to"] = "{{"
	got := summary(Check(a, catalogFixture()))
	want := []string{"|NOT_FOUND|", "a1|INVALID_MAPPING|to", "a3|MAPPING_TYPE_MISMATCH|points"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestCheckDegenerate(t *testing.T) {
	if got := Check(nil, nil); got != nil {
		t.Errorf("nil automation: %v", got)
	}
	if got := Check(&automation.Automation{}, nil); got != nil {
		t.Errorf("no configuration: %v", got)
	}
	// No catalog at all: everything unknown, only NOT_FOUNDs; a cycle and nil actions are tolerated.
	a := chain()
	appDefined(a, "a3").PostActionIDs = []string{"a1"}
	a.Configuration.Actions["nil"] = nil
	got := summary(Check(a, nil))
	want := []string{"|NOT_FOUND|", "a1|NOT_FOUND|", "a3|NOT_FOUND|"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
	if _, err := AvailableSchema(a, "missing", nil); err == nil {
		t.Error("AvailableSchema of a missing action: want an error")
	}
	if _, err := AvailableSchema(nil, "a1", nil); err == nil {
		t.Error("AvailableSchema of nil: want an error")
	}
}

func TestAvailableSchemaThirdAction(t *testing.T) {
	got, err := AvailableSchema(chain(), "a3", catalogFixture())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	golden := filepath.Join("testdata", "available_a3.golden.json")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("AvailableSchema(a3) differs from %s (run with -update to accept):\n%s", golden, b)
	}
	// The first action sees only the trigger payload.
	first, err := AvailableSchema(chain(), "a1", catalogFixture())
	if err != nil {
		t.Fatal(err)
	}
	props := first["properties"].(map[string]any)
	for _, ns := range []string{"send_email-1", "setVariable", "create_task-1"} {
		if _, ok := props[ns]; ok {
			t.Errorf("a1 sees %s", ns)
		}
	}
	if strings.Contains(string(b), "$ref") || strings.Contains(string(b), "definitions") {
		t.Error("refs were not inlined")
	}
}
