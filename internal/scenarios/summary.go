package scenarios

import (
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/switchyard-dev/switchyard/internal/awse2e"
)

// Summary is the normalized run logs of a scenario: one entry per activation, in report order.
type Summary struct {
	Activations []ActivationSummary `json:"activations"`
}

// ActivationSummary is one activation's run logs without what differs from run to run.
type ActivationSummary struct {
	Status string `json:"status"`
	// Actions is "<action id> <activationStatus>" per action log: in the order the API lists them
	// (the order the actions ran), or sorted by id when the automation forks.
	Actions []string `json:"actions"`
	// Log is GET /v2/activation-logs/{id}'s activationLog, normalized.
	Log any `json:"log"`
	// ActionLogs are GET /v2/activation-action-logs?activationId={id}'s logs, normalized, in the order
	// of Actions.
	ActionLogs []any `json:"actionLogs"`
}

// Normalization: these keys are dropped (generated ids, record timestamps), timestamps elsewhere become
// "<time>", other generated UUIDs "<uuid>", and payload.dueAt (set at report time) "<dueAt>". What remains
// — statuses, action ids, types, inputs, outputs, error codes and descriptions, delay and timeout
// infos — must be the same on both runtimes.
var (
	dropped = map[string]bool{"activationId": true, "automationId": true, "requestId": true,
		"createdDate": true, "updatedDate": true, "statusChangedDate": true}
	fixedIDs = map[string]bool{awse2e.Site: true, awse2e.App: true, cancelEntity: true,
		awse2e.ActionID(1): true, awse2e.ActionID(2): true, awse2e.ActionID(3): true, awse2e.ActionID(4): true,
		filterID: true}
	uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

func summarize(t *testing.T, owner awse2e.Client, ids []string, parallel bool) Summary {
	t.Helper()
	var s Summary
	for _, id := range ids {
		log := owner.ActivationLog(id)
		delete(log, "id")
		acts := owner.ActionLogs(id)
		if parallel {
			sort.SliceStable(acts, func(i, j int) bool { return acts[i]["id"].(string) < acts[j]["id"].(string) })
		}
		a := ActivationSummary{Log: normalize(log, ""), ActionLogs: []any{}, Actions: []string{}}
		a.Status, _ = log["status"].(string)
		for _, l := range acts {
			a.Actions = append(a.Actions, l["id"].(string)+" "+l["activationStatus"].(string))
			a.ActionLogs = append(a.ActionLogs, normalize(l, ""))
		}
		s.Activations = append(s.Activations, a)
	}
	return s
}

func normalize(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if dropped[k] {
				continue
			}
			out[k] = normalize(x, k)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x, "")
		}
		return out
	case string:
		if key == "dueAt" {
			return "<dueAt>"
		}
		if _, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return "<time>"
		}
		if uuidRe.MatchString(v) && !fixedIDs[v] {
			return "<uuid>"
		}
		return v
	}
	return v
}
