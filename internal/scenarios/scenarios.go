// Package scenarios is the scenario suite shared by Switchyard's two runtimes: each scenario is data (the
// automations to create, how the provider answers each action key, the events to report and an optional
// CancelEvent), and its run logs — GET /v2/activation-logs/{id} and GET /v2/activation-action-logs —
// are reduced to a normalized Summary that is compared to one golden file per scenario,
// testdata/<scenario>.golden.json. The local runtime (LocalDriver, in this package) and the AWS path
// (internal/awse2e's driver: DynamoDB Local, the real Lambda handlers, the ASL on
// aws-local-stepfunctions) are checked against the same golden files: equal files are the proof that
// both runtimes produce the same run logs.
package scenarios

import (
	"fmt"
	"time"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
)

// Provider behaviours.
const (
	Immediate     = "IMMEDIATE"      // 200 {"result": Result}
	HTTPError     = "HTTP_ERROR"     // Status (a 4xx) with {"message": ...}
	AsyncComplete = "ASYNC_COMPLETE" // TIMEOUT_LENGTH 5 min, then completed via the API with Result
	AsyncTimeout  = "ASYNC_TIMEOUT"  // TIMEOUT_DATE TimeoutAfter after the call, never completed
)

// Behavior is how the provider answers one action key.
type Behavior struct {
	Kind         string
	Result       map[string]any // IMMEDIATE: the result; ASYNC_COMPLETE: the completion's result
	Status       int            // HTTP_ERROR
	TimeoutAfter time.Duration  // ASYNC_TIMEOUT
}

// Event is one form_submitted report.
type Event struct {
	Payload          map[string]any
	ExternalEntityID string
	// DueIn, when set, adds payload.dueAt: the epoch milliseconds DueIn after the report (a DELAY's
	// dueDateEpochExpression reads it). The normalized summary masks it.
	DueIn time.Duration
}

// Cancel is a CancelEvent for ExternalEntityID, sent once action WhenStarted of every activation of
// the entity is STARTED (e.g. waiting in a delay).
type Cancel struct {
	ExternalEntityID string
	WhenStarted      string
}

// Scenario is one end-to-end case.
type Scenario struct {
	Name        string
	Automations []map[string]any // request bodies of POST /v2/automations
	Provider    map[string]Behavior
	Events      []Event
	Cancel      *Cancel
	// Parallel: the automation forks, so the order of the action logs across branches is not
	// deterministic; the summary then lists actions by id and omits the run order.
	Parallel bool
	// Refresh, when set, makes form_submitted declare refreshPayload and its provider answer it.
	Refresh *Refresh
}

// Refresh is how the trigger provider answers refresh-payload: the reported payload with Set's fields
// replaced, or a cancellation.
type Refresh struct {
	Set    map[string]any
	Cancel bool
}

var (
	a1, a2, a3 = awse2e.ActionID(1), awse2e.ActionID(2), awse2e.ActionID(3)
	ada        = map[string]any{"name": "Ada", "email": "ada@example.com"}
	ann        = map[string]any{"name": "Ann", "email": "ann@example.com"}
	zed        = map[string]any{"name": "Zed", "email": "zed@example.com"}
	noteOK     = Behavior{Kind: Immediate, Result: map[string]any{"noted": true}}
)

// All is the suite.
var All = []Scenario{
	{
		Name:        "chained_output_mapping",
		Automations: []map[string]any{awse2e.CouponBySMS()},
		Provider: map[string]Behavior{
			"lookup_coupon": {Kind: Immediate, Result: map[string]any{"code": "WELCOME10"}},
			"send_sms":      {Kind: Immediate, Result: map[string]any{"messageId": "m-1"}},
		},
		Events: []Event{{Payload: ada}},
	},
	{
		Name:        "provider_4xx_flow_continues",
		Automations: []map[string]any{awse2e.CouponBySMS()},
		Provider: map[string]Behavior{
			"lookup_coupon": {Kind: HTTPError, Status: 400},
			"send_sms":      {Kind: Immediate, Result: map[string]any{"messageId": "m-2"}},
		},
		Events: []Event{{Payload: ada}},
	},
	{
		Name:        "condition_true_false",
		Automations: []map[string]any{conditionAutomation()},
		Provider:    map[string]Behavior{"note": noteOK},
		Events:      []Event{{Payload: ann}, {Payload: zed}},
	},
	{
		Name: "delay_due_date_from_payload",
		Automations: []map[string]any{awse2e.Automation("Short delay", []string{a1}, map[string]any{
			a1: map[string]any{"type": "DELAY", "delayInfo": map[string]any{
				"dueDateEpochExpression": `{{var("dueAt")}}`, "postActionIds": []string{a2}}},
			a2: awse2e.AppAction("note", map[string]any{"text": `{{var("name")}} after the delay`}),
		})},
		Provider: map[string]Behavior{"note": noteOK},
		Events:   []Event{{Payload: ada, DueIn: time.Second}},
	},
	{
		Name: "set_variables_mapping",
		Automations: []map[string]any{awse2e.Automation("Set variables", []string{a1}, map[string]any{
			a1: map[string]any{"type": "SET_VARIABLES", "setVariablesInfo": map[string]any{
				"outputMapping": map[string]any{"greeting": `Hello {{var("name")}}`},
				"outputSchema": map[string]any{"type": "object",
					"properties": map[string]any{"greeting": map[string]any{"type": "string"}}},
				"postActionIds": []string{a2}}},
			a2: awse2e.AppAction("note", map[string]any{"text": `{{var("setVariable.greeting")}}!`}),
		})},
		Provider: map[string]Behavior{"note": noteOK},
		Events:   []Event{{Payload: ada}},
	},
	{
		Name:        "fork_two_parallel_posts",
		Automations: []map[string]any{awse2e.Fork()},
		Provider:    map[string]Behavior{"note": noteOK},
		Events:      []Event{{Payload: ada}},
		Parallel:    true,
	},
	{
		Name:        "async_completed",
		Automations: []map[string]any{awse2e.Approval()},
		Provider: map[string]Behavior{
			"approve": {Kind: AsyncComplete, Result: map[string]any{"by": "Bo"}},
			"note":    noteOK,
		},
		Events: []Event{{Payload: ada}},
	},
	{
		Name:        "async_timed_out",
		Automations: []map[string]any{awse2e.Approval()},
		Provider: map[string]Behavior{
			"approve": {Kind: AsyncTimeout, TimeoutAfter: 1500 * time.Millisecond},
			"note":    noteOK,
		},
		Events: []Event{{Payload: ada}},
	},
	{
		Name:        "trigger_filter_skipped",
		Automations: []map[string]any{filteredAutomation()},
		Provider:    map[string]Behavior{"note": noteOK},
		Events:      []Event{{Payload: zed}, {Payload: ann}},
	},
	{
		Name:        "refresh_payload_after_delay",
		Automations: []map[string]any{refreshAutomation()},
		Provider:    map[string]Behavior{"note": noteOK},
		Events:      []Event{{Payload: ada, DueIn: time.Second}},
		Refresh:     &Refresh{Set: map[string]any{"name": "Ada Lovelace"}},
	},
	{
		Name:        "refresh_payload_cancels",
		Automations: []map[string]any{refreshAutomation()},
		Provider:    map[string]Behavior{"note": noteOK},
		Events:      []Event{{Payload: ada, DueIn: time.Second}},
		Refresh:     &Refresh{Cancel: true},
	},
	{
		Name:        "cancel_waiting_in_delay",
		Automations: []map[string]any{awse2e.Delayed(10 * time.Minute)},
		Provider:    map[string]Behavior{"note": noteOK},
		Events:      []Event{{Payload: ada, ExternalEntityID: cancelEntity}},
		Cancel:      &Cancel{ExternalEntityID: cancelEntity, WhenStarted: a1},
	},
}

const (
	cancelEntity = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"
	filterID     = "f0000000-0000-4000-8000-000000000001"
)

// refreshAutomation: a note, a delay until payload.dueAt, then a note that maps the (refreshed) name.
func refreshAutomation() map[string]any {
	return awse2e.Automation("Refreshed after delay", []string{a1}, map[string]any{
		a1: awse2e.AppAction("note", map[string]any{"text": `before: {{var("name")}}`}, a2),
		a2: map[string]any{"type": "DELAY", "delayInfo": map[string]any{
			"dueDateEpochExpression": `{{var("dueAt")}}`, "postActionIds": []string{a3}}},
		a3: awse2e.AppAction("note", map[string]any{"text": `after: {{var("name")}}`}),
	})
}

// conditionAutomation: a CONDITION on the name, a note on each side.
func conditionAutomation() map[string]any {
	return awse2e.Automation("Condition", []string{a1}, map[string]any{
		a1: map[string]any{"type": "CONDITION", "conditionInfo": map[string]any{
			"orExpressionGroups": []any{map[string]any{"operator": "AND",
				"booleanExpressions": []string{`{{contains(["Ann","Bob"];var("name"))}}`}}},
			"truePostActionIds":  []string{a2},
			"falsePostActionIds": []string{a3},
		}},
		a2: awse2e.AppAction("note", map[string]any{"text": `welcome back {{var("name")}}`}),
		a3: awse2e.AppAction("note", map[string]any{"text": `who is {{var("name")}}?`}),
	})
}

// filteredAutomation runs one note only for the names the trigger filter lets through.
func filteredAutomation() map[string]any {
	a := awse2e.Automation("Filtered", []string{a1}, map[string]any{
		a1: awse2e.AppAction("note", map[string]any{"text": `hi {{var("name")}}`}),
	})
	trig := awse2e.Dig(a, "automation.configuration.trigger").(map[string]any)
	trig["filters"] = []map[string]any{{"id": filterID, "fieldKey": "name",
		"filterExpression": `{{contains(["Ann","Bob"];var("name"))}}`}}
	return a
}

// ByName returns the scenario called name.
func ByName(name string) Scenario {
	for _, s := range All {
		if s.Name == name {
			return s
		}
	}
	panic(fmt.Sprintf("no scenario %q", name))
}
