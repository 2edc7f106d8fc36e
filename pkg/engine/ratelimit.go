package engine

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/expr"
	"github.com/switchyard-dev/switchyard/pkg/run"
)

// rateLimit describes one limit: at most max activations per uniqueness key per window (no duration:
// ever).
type rateLimit struct {
	maxExpr, durationExpr, unit, uniqueExpr string
}

// allow evaluates the limit over the payload and counts this activation against it. scope names the
// automation (and action) the counter belongs to. An expression that cannot be evaluated lets the
// activation through: a broken limit must not silently stop an automation.
func (e *Engine) allow(ctx context.Context, siteID, scope string, rl rateLimit, payload map[string]any) (bool, error) {
	env := &expr.Env{Payload: payload, Now: e.now}
	n, ok, err := evalNumber(rl.maxExpr, env)
	if err != nil || !ok || n < 0 || math.IsNaN(n) {
		return true, nil
	}
	unique := ""
	if strings.TrimSpace(rl.uniqueExpr) != "" {
		if t, err := expr.ParseTemplate(rl.uniqueExpr); err == nil {
			if v, err := t.Eval(env); err == nil && v != nil {
				unique = fmt.Sprint(v)
			}
		}
	}
	now := e.now().UTC()
	key := siteID + "|" + scope + "|" + unique
	var expires time.Time
	if d, ok, err := evalNumber(rl.durationExpr, env); err == nil && ok && d > 0 {
		end, err := AddOffset(time.Unix(0, 0).UTC(), d, rl.unit)
		if err != nil || end.Sub(time.Unix(0, 0)) <= 0 {
			return true, nil
		}
		window := end.Sub(time.Unix(0, 0).UTC())
		start := now.Truncate(window) // fixed windows aligned to the epoch
		key += fmt.Sprintf("|%d", start.UnixMilli())
		expires = start.Add(window)
	}
	return e.store.Hit(ctx, run.Counter{Key: key, Limit: int(n), ExpiresAt: expires, Now: now})
}

func evalNumber(src string, env *expr.Env) (float64, bool, error) {
	if strings.TrimSpace(src) == "" {
		return 0, false, nil
	}
	t, err := expr.ParseTemplate(src)
	if err != nil {
		return 0, false, err
	}
	return t.EvalNumber(env)
}

func strOrEmpty(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// runRateLimit passes (ENDED, passed) and continues, or stops this branch (SKIPPED, RATE_LIMIT_EXCEEDED).
func (e *Engine) runRateLimit(ctx context.Context, s *step, a *automation.Action) error {
	info := a.RateLimitInfo
	ok, err := e.allow(ctx, s.act.SiteID, s.act.AutomationID+"/"+a.ID, rateLimit{maxExpr: info.MaxActivationsExpression,
		durationExpr: strOrEmpty(info.RateLimitDurationExpression), unit: info.RateLimitDurationTimeUnit,
		uniqueExpr: strOrEmpty(info.UniqueIdentifierExpression)}, s.next.Payload)
	if err != nil {
		return fmt.Errorf("rate limit: %w", err)
	}
	if !ok {
		s.logs = append(s.logs, run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type, Status: run.ActionSkipped,
			SkippedInfo: &run.ActionSkippedInfo{Reason: "RATE_LIMIT_EXCEEDED", StatusChangedDate: s.now}})
		s.advance(nil)
		return nil
	}
	s.logs = append(s.logs, run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type, Status: run.ActionEnded,
		EndedInfo: &run.ActionEndedInfo{RateLimitActionInfo: &run.Passed{Passed: true}, StatusChangedDate: s.now}})
	s.advance(info.PostActionIDs)
	return nil
}

// triggerAllows applies the trigger's rateLimit to a new activation of automation a.
func (e *Engine) triggerAllows(ctx context.Context, siteID string, a *automation.Automation, payload map[string]any) (bool, error) {
	rl := a.Configuration.Trigger.RateLimit
	if rl == nil || strings.TrimSpace(rl.MaxActivationsExpression) == "" {
		return true, nil
	}
	return e.allow(ctx, siteID, a.ID+"/trigger", rateLimit{maxExpr: rl.MaxActivationsExpression,
		durationExpr: strOrEmpty(rl.DurationExpression), unit: rl.DurationTimeUnit,
		uniqueExpr: strOrEmpty(rl.UniqueIdentifierExpression)}, payload)
}

// runOutput records the automation's output and ends the branch.
func (e *Engine) runOutput(s *step, a *automation.Action) {
	out := map[string]any{}
	if a.OutputInfo.OutputMapping != nil {
		v, err := expr.EvalMapping(a.OutputInfo.OutputMapping, &expr.Env{Payload: s.next.Payload, Now: e.now})
		if err != nil {
			s.fail(a, "output mapping: "+err.Error(), "INVALID_MAPPING")
			s.advance(nil)
			return
		}
		out, _ = v.(map[string]any)
	}
	s.logs = append(s.logs, run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type, Status: run.ActionEnded,
		EndedInfo: &run.ActionEndedInfo{OutputActionInfo: &run.AppDefinedOutput{Output: out}, StatusChangedDate: s.now}})
	s.advance(nil)
}
