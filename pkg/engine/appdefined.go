package engine

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/switchyard-dev/switchyard/pkg/access"
	"github.com/switchyard-dev/switchyard/pkg/automation"
	"github.com/switchyard-dev/switchyard/pkg/errs"
	"github.com/switchyard-dev/switchyard/pkg/expr"
	"github.com/switchyard-dev/switchyard/pkg/outbound"
	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/run"
	"github.com/switchyard-dev/switchyard/pkg/systemapp"
)

// runAppDefined resolves the input mapping, checks it against the action's input schema, invokes the
// provider and merges an immediate result into the payload under the action's namespace.
func (e *Engine) runAppDefined(ctx context.Context, s *step, a *automation.Action) error {
	info := a.AppDefinedInfo
	if info == nil {
		s.fail(a, "APP_DEFINED action has no appDefinedInfo", "INVALID_ACTION")
		s.advance(nil)
		return nil
	}
	def, err := e.store.GetAction(ctx, info.AppID, info.ActionKey)
	if errors.Is(err, errs.ErrNotFound) {
		s.fail(a, fmt.Sprintf("action %q of app %s is not registered", info.ActionKey, info.AppID), "NOT_FOUND")
		s.advance(info.PostActionIDs)
		return nil
	} else if err != nil {
		return fmt.Errorf("load action definition: %w", err)
	}
	if _, err := systemapp.GetInstallation(ctx, e.store, s.act.SiteID, info.AppID); errors.Is(err, errs.ErrNotFound) {
		s.fail(a, fmt.Sprintf("app %s is not installed on this site", info.AppID), "APP_NOT_INSTALLED")
		s.advance(info.PostActionIDs)
		return nil
	} else if err != nil {
		return fmt.Errorf("load installation: %w", err)
	}
	app, err := e.store.GetApp(ctx, info.AppID)
	if err != nil {
		return fmt.Errorf("load app %s: %w", info.AppID, err)
	}

	env := &expr.Env{Payload: s.next.Payload, Now: e.now}
	var input map[string]any
	if info.InputMapping != nil {
		v, err := expr.EvalMapping(info.InputMapping, env)
		if err != nil {
			s.fail(a, "input mapping: "+err.Error(), "INVALID_MAPPING")
			s.advance(info.PostActionIDs)
			return nil
		}
		input, _ = v.(map[string]any)
	}
	if input == nil {
		input = map[string]any{}
	}
	if len(def.InputSchema) > 0 {
		sch, err := e.schemas.Compile(def.InputSchema)
		if err != nil {
			return fmt.Errorf("action %s/%s has an invalid stored input schema: %w", info.AppID, info.ActionKey, err)
		}
		if vs := sch.Validate(input, "input"); len(vs) > 0 {
			msgs := make([]string, 0, len(vs))
			for _, v := range vs {
				msgs = append(msgs, v.Field+": "+v.Description)
			}
			s.fail(a, "input does not match the action's input schema: "+strings.Join(msgs, "; "), "MAPPING_SCHEMA_MISMATCH")
			s.advance(info.PostActionIDs)
			return nil
		}
	}

	token, tokenHash, err := newInvocationToken(s.act.ID, s.cur.ID)
	if err != nil {
		return err
	}
	req := provider.InvokeRequest{ActionKey: info.ActionKey, ActionParams: input,
		ActivationContext: &provider.ActivationContext{
			ActivationID: s.act.ID, TriggerKey: s.act.TriggerKey, TriggerAppID: s.act.TriggerAppID,
			ActionID: a.ID, Payload: s.next.Payload, ActionAppID: info.AppID, InvocationToken: token,
			ActivationSourceInfo: sourceInfo(s.act.Source),
			InitiatorInfo:        initiatorInfo(s.act.Source),
		}}
	log := run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type,
		StartedInfo: &run.ActionStartedInfo{AppDefinedActionInfo: &run.AppDefinedInput{Input: input}, StatusChangedDate: s.now}}
	target, err := e.targets.Target(ctx, app, outbound.Call{SiteID: s.act.SiteID, IdempotencyKey: s.act.ID + ":" + a.ID})
	if errors.Is(err, outbound.ErrUnsignable) {
		s.failLog(log, err.Error(), "SIGNING_FAILED")
		s.advance(info.PostActionIDs)
		return nil
	} else if err != nil {
		return err
	}

	resp, err := e.invoker.Invoke(ctx, target, req)
	if err == nil {
		err = resp.Validate(s.now)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: leave the step to be retried, never half-written
		}
		s.failLog(log, describeInvokeError(err), "INVOKE_FAILED")
		s.advance(info.PostActionIDs)
		return nil
	}
	if deadline, async := resp.Deadline(s.now); async {
		log.Status = run.ActionInvokedAsync
		log.InvokedAsyncInfo = &run.ActionInvokedInfo{AppDefinedActionInfo: &run.AsyncInfo{Output: resp.Result,
			TimeoutDate: deadline}, StatusChangedDate: s.now}
		s.logs = append(s.logs, log)
		s.next.State, s.next.DueAt = run.BranchAwaiting, deadline
		s.next.Await = &run.Await{ActionID: a.ID, TokenHash: tokenHash, Deadline: deadline}
		return nil
	}
	s.endAppDefined(a, log, resp.Result)
	return nil
}

// endAppDefined records a successful result and merges it into the payload under the action's namespace.
func (s *step) endAppDefined(a *automation.Action, log run.ActionLog, result map[string]any) {
	if result == nil {
		result = map[string]any{}
	}
	ns := a.Namespace
	if ns == "" {
		ns = a.AppDefinedInfo.ActionKey
	}
	if s.next.Payload == nil {
		s.next.Payload = map[string]any{}
	}
	s.next.Payload[ns] = clonePayload(result)
	log.Status = run.ActionEnded
	log.EndedInfo = &run.ActionEndedInfo{AppDefinedActionInfo: &run.AppDefinedOutput{Output: result}, StatusChangedDate: s.now}
	s.logs = append(s.logs, log)
	s.advance(a.AppDefinedInfo.PostActionIDs)
}

func (s *step) failLog(log run.ActionLog, desc, code string) {
	if len(desc) > 1000 {
		desc = desc[:1000]
	}
	s.failed++
	log.Status = run.ActionFailed
	log.FailedInfo = &run.ActionFailedInfo{ErrorDescription: desc, ErrorCode: code, StatusChangedDate: s.now}
	s.logs = append(s.logs, log)
}

// endAsync resolves an async action: with the provider's completion, or FAILED once the deadline passed.
func (e *Engine) endAsync(ctx context.Context, s *step) {
	aw := s.cur.Await
	a := s.act.Automation.Configuration.Actions[aw.ActionID]
	if a == nil || a.AppDefinedInfo == nil {
		s.advance(nil)
		return
	}
	log := run.ActionLog{ActivationID: s.act.ID, ActionID: a.ID, Type: a.Type}
	if prev, err := e.store.GetActionLog(ctx, s.act.ID, a.ID); err == nil {
		log = *prev
	}
	switch c := aw.Completion; {
	case c == nil:
		s.failLog(log, "the provider did not report completion before the timeout", "TIMEOUT")
		s.advance(a.AppDefinedInfo.PostActionIDs)
	case c.Success:
		s.endAppDefined(a, log, c.Result)
	default:
		s.failLog(log, c.ErrorDescription, "ACTION_FAILED")
		s.advance(a.AppDefinedInfo.PostActionIDs)
	}
}

func describeInvokeError(err error) string {
	var pe *provider.Error
	if errors.As(err, &pe) && pe.Description != "" {
		return pe.Description
	}
	return err.Error()
}

func sourceInfo(src run.Source) *provider.ActivationSourceInfo {
	kind := src.Kind
	if kind == "" {
		kind = run.SourceTriggerEvent
	}
	out := &provider.ActivationSourceInfo{ActivationInitiationSource: kind}
	switch kind {
	case run.SourceManual:
		out.ManualActivationInfo = &provider.ManualActivationInfo{TestMode: src.TestMode}
	case run.SourceRerun:
		out.RerunActivationInfo = &provider.RerunActivationInfo{OriginalActivationID: src.OriginalActivationID,
			SkipDelays: src.SkipDelays}
	}
	return out
}

// initiatorInfo tells the provider who started a manual run or a re-run (seed 002).
func initiatorInfo(src run.Source) *provider.InitiatorInfo {
	if src.InitiatorUserID == "" {
		return nil
	}
	return &provider.InitiatorInfo{InitiatorUserID: src.InitiatorUserID}
}

// newInvocationToken returns a token naming its branch plus 192 random bits, and the hash that is stored:
// the secret part never rests in the database.
func newInvocationToken(activationID, branchID string) (token, hash string, err error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("invocation token: %w", err)
	}
	token = activationID + "." + branchID + "." + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) string { return access.Hash(token) }

// ParseInvocationToken splits a token into the branch it names; the caller must still check its hash.
func ParseInvocationToken(token string) (run.BranchRef, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || !automation.IsGUID(parts[0]) || !automation.IsGUID(parts[1]) || parts[2] == "" {
		return run.BranchRef{}, false
	}
	return run.BranchRef{ActivationID: parts[0], BranchID: parts[1]}, true
}

// TokenMatches compares a presented token with a stored hash in constant time.
func TokenMatches(token, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(hash)) == 1
}
