// Package mapcheck statically checks an automation's expressions against the schemas of its trigger and
// actions, for ValidateAutomation (reference §2.4), and computes the payload schema each action sees
// (GetAutomationActionSchema).
//
// What an action may read (reference §2.3 "Payload scope per step"): the trigger payload un-prefixed (plus
// `contact` when a payload field is marked "identityType": "contact", see pkg/engine's enrichment), the
// outputs of its APP_DEFINED ancestors under their namespaces, and setVariable.* from ancestor
// SET_VARIABLES actions. Ancestors are the actions from which the action is reachable, so a sibling branch
// never sees another branch's outputs.
//
// The check is pure and never panics: odd schemas (booleans, unsupported or cyclic $ref, non-objects) only
// make types unknown, and unknown is compatible with everything.
package mapcheck

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/contacts"
	"github.com/switchyard-dev/switchyard/pkg/expr"
)

// Catalog gives the definitions the check needs (the caller adapts its store).
type Catalog interface {
	Trigger(appID, key string) (payloadSchema json.RawMessage, ok bool)
	Action(appID, key string) (inputSchema, outputSchema json.RawMessage, ok bool)
}

// Issue is one configuration error. ErrorType is a TriggerErrorType name when ActionID is empty, an
// ActionErrorType name otherwise (reference §2.4).
type Issue struct {
	ActionID  string `json:"actionId,omitempty"`
	ErrorType string `json:"errorType"`
	FieldKey  string `json:"fieldKey,omitempty"`
	Message   string `json:"message"`
}

// Error type names (reference §2.4).
const (
	NotFound                         = "NOT_FOUND"
	InvalidFilterExpression          = "INVALID_FILTER_EXPRESSION"
	InvalidFilterFieldKey            = "INVALID_FILTER_FIELD_KEY"
	InvalidMapping                   = "INVALID_MAPPING"
	MappingTypeMismatch              = "MAPPING_TYPE_MISMATCH"
	MappingMissingRequiredField      = "MAPPING_MISSING_REQUIRED_FIELD"
	MappingVariableMissingFromSchema = "MAPPING_VARIABLE_MISSING_FROM_SCHEMA"
	PostActionNotFound               = "POST_ACTION_NOT_FOUND"
)

// SetVariableNamespace is where SET_VARIABLES actions put their variables.
const SetVariableNamespace = "setVariable"

// Check returns every issue found, trigger issues first, then per action in automation.GraphOrder, each
// group sorted by field key.
func Check(a *automation.Automation, c Catalog) []Issue {
	if a == nil || a.Configuration == nil {
		return nil
	}
	k := newChecker(a, c)
	k.checkTrigger()
	order := automation.GraphOrder(a.Configuration)
	rank := map[string]int{"": -1}
	for i, id := range order {
		rank[id] = i
		k.checkAction(id, a.Configuration.Actions[id])
	}
	sort.SliceStable(k.issues, func(i, j int) bool {
		x, y := k.issues[i], k.issues[j]
		if rank[x.ActionID] != rank[y.ActionID] {
			return rank[x.ActionID] < rank[y.ActionID]
		}
		if x.FieldKey != y.FieldKey {
			return x.FieldKey < y.FieldKey
		}
		if x.ErrorType != y.ErrorType {
			return x.ErrorType < y.ErrorType
		}
		return x.Message < y.Message
	})
	return k.issues
}

// AvailableSchema returns the accumulated payload schema action actionID sees (GetAutomationActionSchema):
// an object schema whose properties are the trigger payload's (trigger.overrideSchema wins), one property
// per APP_DEFINED ancestor namespace holding its output schema (overrideOutputSchema wins), and setVariable
// with the variables of ancestor SET_VARIABLES actions (their outputSchema if set, else the keys of
// outputMapping typed from their expressions, {} when unknown). Local $refs are inlined.
func AvailableSchema(a *automation.Automation, actionID string, c Catalog) (map[string]any, error) {
	if a == nil || a.Configuration == nil {
		return nil, errors.New("mapcheck: automation has no configuration")
	}
	if act := a.Configuration.Actions[actionID]; act == nil {
		return nil, fmt.Errorf("mapcheck: action %q not found", actionID)
	}
	return newChecker(a, c).available(actionID), nil
}

type checker struct {
	a       *automation.Automation
	cfg     *automation.Configuration
	cat     Catalog
	rank    map[string]int
	parents map[string][]string
	avail   map[string]map[string]any
	busy    map[string]bool
	outs    map[string]outDef
	issues  []Issue
}

type outDef struct {
	in, out any
	hasOut  bool
	ok      bool
}

func newChecker(a *automation.Automation, c Catalog) *checker {
	k := &checker{a: a, cfg: a.Configuration, cat: c, rank: map[string]int{}, parents: map[string][]string{},
		avail: map[string]map[string]any{}, busy: map[string]bool{}, outs: map[string]outDef{}}
	for i, id := range automation.GraphOrder(k.cfg) {
		k.rank[id] = i
		for _, p := range k.cfg.Actions[id].PostActionIDs() {
			if k.cfg.Actions[p] != nil {
				k.parents[p] = append(k.parents[p], id)
			}
		}
	}
	return k
}

func (k *checker) add(actionID, errType, field, format string, args ...any) {
	k.issues = append(k.issues, Issue{ActionID: actionID, ErrorType: errType, FieldKey: field,
		Message: fmt.Sprintf(format, args...)})
}

// actionDef looks up (once) and decodes an APP_DEFINED action definition.
func (k *checker) actionDef(info *automation.AppDefinedInfo) outDef {
	key := info.AppID + "\x00" + info.ActionKey
	if d, ok := k.outs[key]; ok {
		return d
	}
	var d outDef
	if k.cat != nil {
		in, out, ok := k.cat.Action(info.AppID, info.ActionKey)
		if ok {
			d.ok = true
			d.in, _ = decode(in)
			d.out, d.hasOut = decode(out)
		}
	}
	k.outs[key] = d
	return d
}

// triggerSchema returns the payload schema (override wins) and whether the trigger definition exists.
func (k *checker) triggerSchema() (schema any, known, exists bool) {
	t := k.cfg.Trigger
	if t == nil {
		return nil, false, false
	}
	if k.cat != nil {
		var raw json.RawMessage
		raw, exists = k.cat.Trigger(t.AppID, t.TriggerKey)
		if exists {
			schema, known = decode(raw)
		}
	}
	if t.OverrideSchema != nil {
		schema, known = inline(map[string]any(t.OverrideSchema)), true
	}
	return schema, known, exists
}

// ancestors lists the actions from which id is reachable, in graph order, without id itself.
func (k *checker) ancestors(id string) []string {
	seen := map[string]bool{id: true}
	queue := append([]string(nil), k.parents[id]...)
	var out []string
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
		queue = append(queue, k.parents[p]...)
	}
	sort.Slice(out, func(i, j int) bool { return k.rank[out[i]] < k.rank[out[j]] })
	return out
}

// available builds (once per action) the schema an action sees.
func (k *checker) available(id string) map[string]any {
	if s, ok := k.avail[id]; ok {
		return s
	}
	if k.busy[id] { // a cycle through SET_VARIABLES typing: see only the trigger
		return map[string]any{"type": "object", "additionalProperties": true}
	}
	k.busy[id] = true
	defer delete(k.busy, id)

	props := map[string]any{}
	open := true
	if ts, known, _ := k.triggerSchema(); known {
		open = collectProps(ts, props, 0)
		if _, ok := contacts.IdentityField(ts); ok {
			props[contacts.PayloadKey] = contacts.PayloadSchema() // identity enrichment (the engine's enrich)
		}
	}
	var vars map[string]any
	varsOpen := false
	for _, aid := range k.ancestors(id) {
		act := k.cfg.Actions[aid]
		switch {
		case act.Type == automation.TypeAppDefined && act.AppDefinedInfo != nil:
			info := act.AppDefinedInfo
			ns := act.Namespace
			if ns == "" {
				ns = info.ActionKey // what the engine falls back to
			}
			if ns == "" {
				continue
			}
			if info.OverrideOutputSchema != nil {
				props[ns] = inline(map[string]any(info.OverrideOutputSchema))
				continue
			}
			d := k.actionDef(info)
			switch {
			case !d.ok:
				props[ns] = map[string]any{} // unknown action (reported as NOT_FOUND): anything
			case d.hasOut:
				if d.out == nil {
					props[ns] = map[string]any{}
				} else {
					props[ns] = d.out
				}
			}
		case act.Type == automation.TypeSetVariables && act.SetVariablesInfo != nil:
			info := act.SetVariablesInfo
			if vars == nil {
				vars = map[string]any{}
			}
			if info.OutputSchema != nil {
				if collectProps(inline(map[string]any(info.OutputSchema)), vars, 0) {
					varsOpen = true
				}
				continue
			}
			env := k.available(aid)
			for _, key := range slices.Sorted(maps.Keys(info.OutputMapping)) {
				vars[key] = valueSchema(info.OutputMapping[key], env, 0)
			}
		}
	}
	if vars != nil {
		sv := map[string]any{"type": "object", "properties": vars}
		if varsOpen {
			sv["additionalProperties"] = true
		}
		props[SetVariableNamespace] = sv
	}
	out := map[string]any{"type": "object", "properties": props}
	if open {
		out["additionalProperties"] = true
	}
	k.avail[id] = out
	return out
}

// valueSchema types a SET_VARIABLES outputMapping value: a template by its expression, JSON literals by
// their shape, unknown as {}.
func valueSchema(v any, env any, depth int) any {
	switch x := v.(type) {
	case string:
		t, err := expr.ParseTemplate(x)
		if err != nil {
			return map[string]any{}
		}
		if !t.IsSingle() {
			return typed("string")
		}
		if info := singleType(t, env); info.schema != nil {
			return info.schema
		}
		return map[string]any{}
	case map[string]any:
		if depth > maxCombDepth {
			return typed("object")
		}
		props := map[string]any{}
		for key, e := range x {
			props[key] = valueSchema(e, env, depth+1)
		}
		return map[string]any{"type": "object", "properties": props}
	}
	if s := literalType(v); s != nil {
		return s
	}
	return map[string]any{}
}

// ---- trigger ----

func (k *checker) checkTrigger() {
	t := k.cfg.Trigger
	if t == nil {
		return
	}
	schema, known, exists := k.triggerSchema()
	if !exists {
		k.add("", NotFound, "", "trigger %s/%s not found", t.AppID, t.TriggerKey)
	}
	for _, f := range t.Filters {
		if _, err := expr.ParseTemplate(f.FilterExpression); err != nil {
			k.add("", InvalidFilterExpression, f.FieldKey, "filter expression: %v", err)
		}
		if known {
			if _, ok := resolvePath(schema, f.FieldKey); !ok {
				k.add("", InvalidFilterFieldKey, f.FieldKey, "filter field key %q is not in the trigger payload schema", f.FieldKey)
			}
		}
	}
}

// ---- actions ----

func (k *checker) checkAction(id string, act *automation.Action) {
	if act == nil {
		return
	}
	k.checkPostActions(id, act)
	if act.SkipActionExpression != "" {
		k.checkExpr(id, "skipActionExpression", act.SkipActionExpression)
	}
	switch {
	case act.Type == automation.TypeAppDefined && act.AppDefinedInfo != nil:
		k.checkAppDefined(id, act.AppDefinedInfo)
	case act.Type == automation.TypeCondition && act.ConditionInfo != nil:
		k.checkGroups(id, "orExpressionGroups", act.ConditionInfo.OrExpressionGroups)
	case act.Type == automation.TypeDelay && act.DelayInfo != nil:
		d := act.DelayInfo
		k.checkOptExpr(id, "offsetExpression", d.OffsetExpression)
		k.checkOptExpr(id, "dueDateEpochExpression", d.DueDateEpochExpression)
		k.checkOptExpr(id, "dueDateExpression", d.DueDateExpression)
	case act.Type == automation.TypeRateLimit && act.RateLimitInfo != nil:
		r := act.RateLimitInfo
		k.checkExpr(id, "maxActivationsExpression", r.MaxActivationsExpression)
		k.checkOptExpr(id, "rateLimitDurationExpression", r.RateLimitDurationExpression)
		k.checkOptExpr(id, "uniqueIdentifierExpression", r.UniqueIdentifierExpression)
	case act.Type == automation.TypeSetVariables && act.SetVariablesInfo != nil:
		k.checkMapping(id, act.SetVariablesInfo.OutputMapping, nil, false, "outputMapping")
	case act.Type == automation.TypeOutput && act.OutputInfo != nil:
		k.checkMapping(id, act.OutputInfo.OutputMapping, nil, false, "outputMapping")
	}
}

func (k *checker) checkPostActions(id string, act *automation.Action) {
	check := func(field string, ids []string) {
		for i, p := range ids {
			if k.cfg.Actions[p] == nil {
				k.add(id, PostActionNotFound, field+"["+strconv.Itoa(i)+"]", "post action %q not found", p)
			}
		}
	}
	switch {
	case act.AppDefinedInfo != nil:
		check("postActionIds", act.AppDefinedInfo.PostActionIDs)
	case act.ConditionInfo != nil:
		check("truePostActionIds", act.ConditionInfo.TruePostActionIDs)
		check("falsePostActionIds", act.ConditionInfo.FalsePostActionIDs)
	case act.DelayInfo != nil:
		check("postActionIds", act.DelayInfo.PostActionIDs)
	case act.RateLimitInfo != nil:
		check("postActionIds", act.RateLimitInfo.PostActionIDs)
	case act.SetVariablesInfo != nil:
		check("postActionIds", act.SetVariablesInfo.PostActionIDs)
	}
}

func (k *checker) checkGroups(id, field string, groups []automation.ConditionExpressionGroup) {
	for i, g := range groups {
		for j, e := range g.BooleanExpressions {
			k.checkExpr(id, fmt.Sprintf("%s[%d].booleanExpressions[%d]", field, i, j), e)
		}
	}
}

func (k *checker) checkOptExpr(id, field string, s *string) {
	if s != nil {
		k.checkExpr(id, field, *s)
	}
}

// checkExpr parses a control-flow expression and checks its variables.
func (k *checker) checkExpr(id, field, s string) {
	t, err := expr.ParseTemplate(s)
	if err != nil {
		k.add(id, InvalidMapping, field, "%v", err)
		return
	}
	k.checkVars(id, field, t)
}

func (k *checker) checkVars(id, field string, t *expr.Template) {
	avail := k.available(id)
	for _, v := range t.Vars() {
		if _, ok := resolvePath(avail, v); !ok {
			k.add(id, MappingVariableMissingFromSchema, field, "variable %q is not in the schema available to this action", v)
		}
	}
}

func (k *checker) checkAppDefined(id string, info *automation.AppDefinedInfo) {
	d := k.actionDef(info)
	if !d.ok {
		k.add(id, NotFound, "", "action %s/%s not found", info.AppID, info.ActionKey)
	}
	k.checkGroups(id, "skipConditionOrExpressionGroups", info.SkipConditionOrExpressionGroups)
	k.checkMapping(id, info.InputMapping, d.in, d.ok && d.in != nil, "")
}

// checkMapping walks a mapping: every string is parsed and its variables checked; with a schema, values are
// also checked against their field's type and required fields must be mapped.
func (k *checker) checkMapping(id string, m map[string]any, schema any, typed bool, prefix string) {
	if m == nil {
		m = map[string]any{}
	}
	k.walk(id, m, schema, typed, prefix, 0)
}

// maxWalkDepth bounds mapping nesting (a decoded JSON value may nest thousands deep).
const maxWalkDepth = 256

func (k *checker) walk(id string, v any, schema any, typed bool, path string, depth int) {
	if depth > maxWalkDepth {
		return
	}
	target := []string(nil)
	if typed {
		target = types(schema)
	}
	mismatch := func(what string) {
		k.add(id, MappingTypeMismatch, path, "%s does not fit a field of type %s", what, strings.Join(target, "|"))
	}
	switch x := v.(type) {
	case string:
		t, err := expr.ParseTemplate(x)
		if err != nil {
			k.add(id, InvalidMapping, path, "%v", err)
			return
		}
		k.checkVars(id, path, t)
		if !typed || len(target) == 0 || has(target, "string") || strings.TrimSpace(x) == "" {
			return
		}
		switch {
		case !t.IsDynamic():
			if !staticLiteralOK(target, x) {
				mismatch("literal text")
			}
		case !t.IsSingle():
			mismatch("text with expressions")
		default:
			info := singleType(t, k.available(id))
			if !compatible(target, info) {
				mismatch("an expression of type " + strings.Join(types(info.schema), "|"))
			}
		}
	case map[string]any:
		if len(target) > 0 && !has(target, "object") {
			mismatch("an object")
			typed = false
		}
		for _, key := range slices.Sorted(maps.Keys(x)) {
			var sub any
			subTyped := false
			if typed {
				sub, subTyped = prop(schema, key)
				subTyped = subTyped && sub != nil
			}
			k.walk(id, x[key], sub, subTyped, joinKey(path, key), depth+1)
		}
		if typed {
			for _, r := range required(schema) {
				if missing(x[r]) {
					k.add(id, MappingMissingRequiredField, joinKey(path, r), "required field %q is not mapped", joinKey(path, r))
				}
			}
		}
	case []any:
		if len(target) > 0 && !has(target, "array") {
			mismatch("an array")
			typed = false
		}
		for i, e := range x {
			var sub any
			subTyped := false
			if typed {
				sub, subTyped = item(schema, i)
				subTyped = subTyped && sub != nil
			}
			k.walk(id, e, sub, subTyped, path+"["+strconv.Itoa(i)+"]", depth+1)
		}
	case nil:
	default:
		if len(target) > 0 && !compatible(target, literalInfo(x)) {
			mismatch("a " + strings.Join(types(literalType(x)), "|") + " literal")
		}
	}
}

func literalInfo(v any) exprInfo {
	info := exprInfo{schema: literalType(v)}
	if f, ok := v.(float64); ok {
		info.num = &f
	}
	return info
}

func missing(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}
