package systemapp

import (
	"context"
	"errors"
	"fmt"

	"github.com/switchyard-dev/switchyard/pkg/provider"
	"github.com/switchyard-dev/switchyard/pkg/webhook"
)

// Invoker calls an action: the engine's Invoker seam.
type Invoker interface {
	Invoke(ctx context.Context, target provider.Target, req provider.InvokeRequest) (*provider.InvokeResponse, error)
}

// Caller makes a webhook call (webhook.Client).
type Caller interface {
	Call(ctx context.Context, r *webhook.Request) (*webhook.Response, error)
}

// Runner runs the system app's actions in-process and hands every other app's to next (the provider
// client). Both runtimes wrap their invoker with it, so the engine never knows the difference.
type Runner struct {
	next    Invoker
	webhook Caller
}

// WithActions decorates next with the system app's actions.
func WithActions(next Invoker, wh Caller) *Runner { return &Runner{next: next, webhook: wh} }

// Invoke implements the engine's Invoker.
func (a *Runner) Invoke(ctx context.Context, target provider.Target, req provider.InvokeRequest) (*provider.InvokeResponse, error) {
	if target.AppID != AppID {
		return a.next.Invoke(ctx, target, req)
	}
	switch req.ActionKey {
	case ActionWebhook:
		return a.callWebhook(ctx, target, req)
	}
	return nil, &provider.Error{Kind: provider.ClientError, Description: fmt.Sprintf("the system app has no action %q", req.ActionKey)}
}

// callWebhook: a 2xx answer is the action's output {status, body}; anything else fails the action with
// the webhook client's reason (which already says how many attempts were made).
func (a *Runner) callWebhook(ctx context.Context, target provider.Target, req provider.InvokeRequest) (*provider.InvokeResponse, error) {
	r, err := webhook.ParseInput(req.ActionParams)
	if err != nil {
		return nil, &provider.Error{Kind: webhook.InvalidInput, Description: err.Error(), Err: err}
	}
	r.IdempotencyKey = target.IdempotencyKey
	resp, err := a.webhook.Call(ctx, r)
	if err != nil {
		var pe *provider.Error
		if errors.As(err, &pe) && pe.Kind != provider.Canceled {
			// The run log shows Description; Error() also carries the attempt count.
			return nil, &provider.Error{Kind: pe.Kind, StatusCode: pe.StatusCode, Description: pe.Error(), Err: err}
		}
		return nil, err
	}
	return &provider.InvokeResponse{InvokeTimeoutType: provider.InvokeImmediate,
		Result: map[string]any{"status": float64(resp.Status), "body": resp.Body}}, nil
}
