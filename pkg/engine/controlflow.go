package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/expr"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// evalBool evaluates one boolean expression template against the branch payload.
func (e *Engine) evalBool(s *step, src string) (bool, error) {
	t, err := expr.ParseTemplate(src)
	if err != nil {
		return false, err
	}
	return t.EvalBool(&expr.Env{Payload: s.next.Payload, Now: e.now})
}

// evalGroups evaluates condition groups: true when ANY group passes; a group passes when all (AND) or
// any (OR, and the default) of its expressions do. Every expression's result is recorded; an expression
// that cannot be evaluated counts as false and carries its error.
func (e *Engine) evalGroups(s *step, groups []automation.ConditionExpressionGroup) (bool, map[string]run.ExpressionResult) {
	results := map[string]run.ExpressionResult{}
	any := false
	for _, g := range groups {
		and := strings.EqualFold(g.Operator, "AND")
		groupPassed := and && len(g.BooleanExpressions) > 0
		for _, src := range g.BooleanExpressions {
			ok, err := e.evalBool(s, src)
			r := run.ExpressionResult{Passed: ok && err == nil}
			if err != nil {
				r.Error = err.Error()
			}
			results[src] = r
			if and {
				groupPassed = groupPassed && r.Passed
			} else {
				groupPassed = groupPassed || r.Passed
			}
		}
		any = any || groupPassed
	}
	return any, results
}

// runCondition takes the true or the false posts.
func (e *Engine) runCondition(s *step, a *automation.Action) {
	info := a.ConditionInfo
	passed, results := e.evalGroups(s, info.OrExpressionGroups)
	s.logs = append(s.logs, run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type, Status: run.ActionEnded,
		EndedInfo: &run.ActionEndedInfo{ConditionActionInfo: &run.ConditionResult{Passed: passed, ExpressionResults: results},
			StatusChangedDate: s.now}})
	if passed {
		s.advance(info.TruePostActionIDs)
	} else {
		s.advance(info.FalsePostActionIDs)
	}
}

// skipped reports whether an APP_DEFINED action's skip conditions hold (reference §2.3: skipped if ANY
// group is true; skipActionExpression is the newer single-expression form).
func (e *Engine) skipped(s *step, a *automation.Action) bool {
	if a.SkipActionExpression != "" {
		if ok, err := e.evalBool(s, a.SkipActionExpression); err == nil && ok {
			return true
		}
	}
	if a.AppDefinedInfo != nil && len(a.AppDefinedInfo.SkipConditionOrExpressionGroups) > 0 {
		passed, _ := e.evalGroups(s, a.AppDefinedInfo.SkipConditionOrExpressionGroups)
		return passed
	}
	return false
}

// runDelay parks the branch until the delay's due time; test runs and re-runs that skip delays go on at once.
func (e *Engine) runDelay(s *step, a *automation.Action) {
	due, err := e.delayDue(s, a.DelayInfo)
	if err != nil {
		s.fail(a, "delay: "+err.Error(), "DELAY_EVALUATION_FAILED")
		s.advance(a.DelayInfo.PostActionIDs)
		return
	}
	if s.act.Source.TestMode || s.act.Source.SkipDelays {
		due = s.now
	}
	s.logs = append(s.logs, run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type, Status: run.ActionStarted,
		StartedInfo: &run.ActionStartedInfo{DelayActionInfo: &run.DelayDate{Date: due}, StatusChangedDate: s.now}})
	s.next.State, s.next.DueAt = run.BranchWaiting, due
}

// delayDue computes when a delay ends: an offset from now, a due date, or an offset from the due date.
func (e *Engine) delayDue(s *step, d *automation.DelayInfo) (time.Time, error) {
	env := &expr.Env{Payload: s.next.Payload, Now: e.now}
	base, haveDate := s.now, false
	for _, src := range []*string{d.DueDateEpochExpression, d.DueDateExpression} {
		if src == nil || strings.TrimSpace(*src) == "" {
			continue
		}
		t, err := expr.ParseTemplate(*src)
		if err != nil {
			return time.Time{}, err
		}
		v, err := t.Eval(env)
		if err != nil {
			return time.Time{}, err
		}
		at, err := toTime(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("due date: %w", err)
		}
		base, haveDate = at, true
		break
	}
	if d.OffsetExpression == nil || strings.TrimSpace(*d.OffsetExpression) == "" {
		if !haveDate {
			return time.Time{}, fmt.Errorf("neither an offset nor a due date is set")
		}
		return base, nil
	}
	t, err := expr.ParseTemplate(*d.OffsetExpression)
	if err != nil {
		return time.Time{}, err
	}
	n, ok, err := t.EvalNumber(env)
	if err != nil {
		return time.Time{}, err
	}
	if !ok || math.IsNaN(n) || math.IsInf(n, 0) || n < 0 || n > 100000 {
		return time.Time{}, fmt.Errorf("offset must be a number from 0 to 100000, got %v", n)
	}
	return AddOffset(base, n, d.OffsetTimeUnit)
}

// AddOffset adds n time units to t; MONTHS are calendar months.
func AddOffset(t time.Time, n float64, unit string) (time.Time, error) {
	switch unit {
	case "MINUTES":
		return t.Add(time.Duration(n * float64(time.Minute))), nil
	case "HOURS":
		return t.Add(time.Duration(n * float64(time.Hour))), nil
	case "DAYS":
		return t.Add(time.Duration(n * 24 * float64(time.Hour))), nil
	case "WEEKS":
		return t.Add(time.Duration(n * 7 * 24 * float64(time.Hour))), nil
	case "MONTHS":
		whole := math.Floor(n)
		out := t.AddDate(0, int(whole), 0)
		return out.Add(time.Duration((n - whole) * 30 * 24 * float64(time.Hour))), nil
	}
	return time.Time{}, fmt.Errorf("unsupported time unit %q", unit)
}

// toTime reads a due date: epoch milliseconds, or an RFC 3339 / ISO date string.
func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case float64:
		return time.UnixMilli(int64(x)).UTC(), nil
	case string:
		if ms, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return time.UnixMilli(ms).UTC(), nil // epoch milliseconds sent as text
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, strings.TrimSpace(x)); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not a date", x)
	}
	return time.Time{}, fmt.Errorf("%v is not a date", v)
}

// runSetVariables evaluates the output mapping into setVariable.* for the steps after it.
func (e *Engine) runSetVariables(s *step, a *automation.Action) {
	info := a.SetVariablesInfo
	out := map[string]any{}
	if info.OutputMapping != nil {
		v, err := expr.EvalMapping(info.OutputMapping, &expr.Env{Payload: s.next.Payload, Now: e.now})
		if err != nil {
			s.fail(a, "output mapping: "+err.Error(), "INVALID_MAPPING")
			s.advance(info.PostActionIDs)
			return
		}
		out, _ = v.(map[string]any)
	}
	vars, _ := s.next.Payload["setVariable"].(map[string]any)
	if vars == nil {
		vars = map[string]any{}
	}
	for k, v := range out {
		vars[k] = v
	}
	s.next.Payload["setVariable"] = vars
	s.logs = append(s.logs, run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type, Status: run.ActionEnded,
		EndedInfo: &run.ActionEndedInfo{SetVariablesActionInfo: &run.AppDefinedOutput{Output: out}, StatusChangedDate: s.now}})
	s.advance(info.PostActionIDs)
}
