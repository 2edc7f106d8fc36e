package systemapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/switchyard-dev/switchyard/pkg/catalog"
	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// Registry is the catalog storage Register reads and writes.
type Registry interface {
	GetApp(ctx context.Context, id string) (*catalog.App, error)
	CreateApp(ctx context.Context, a *catalog.App) error
	PutApp(ctx context.Context, a *catalog.App) error
	GetTrigger(ctx context.Context, appID, key string) (*catalog.Trigger, error)
	PutTrigger(ctx context.Context, t *catalog.Trigger) error
	GetAction(ctx context.Context, appID, key string) (*catalog.Action, error)
	PutAction(ctx context.Context, a *catalog.Action) error
}

// Register makes the catalog hold the system app's current definitions. It reads first and writes only
// what is missing or differs, so a start-up (or a Lambda cold start) that finds everything in place
// costs reads only, and a function without write access can call it harmlessly when nothing changed.
// It returns what it wrote ("app", "trigger contact_updated", …). Concurrent callers write the same
// records (fixed ids), so the last write wins with identical content.
func Register(ctx context.Context, s Registry) ([]string, error) {
	now := time.Now().UTC()
	var wrote []string

	want := App()
	got, err := s.GetApp(ctx, AppID)
	switch {
	case errors.Is(err, errs.ErrNotFound):
		want.CreatedDate, want.UpdatedDate = now, now
		if err := s.CreateApp(ctx, want); err != nil && !errors.Is(err, errs.ErrConflict) {
			return wrote, fmt.Errorf("register system app: %w", err)
		}
		wrote = append(wrote, "app")
	case err != nil:
		return wrote, fmt.Errorf("read system app: %w", err)
	case got.Name != want.Name || got.ProviderBaseURI != want.ProviderBaseURI:
		want.CreatedDate, want.UpdatedDate = got.CreatedDate, now
		if err := s.PutApp(ctx, want); err != nil {
			return wrote, fmt.Errorf("update system app: %w", err)
		}
		wrote = append(wrote, "app")
	}

	for _, t := range Triggers() {
		got, err := s.GetTrigger(ctx, AppID, t.TriggerKey)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return wrote, fmt.Errorf("read system trigger %s: %w", t.TriggerKey, err)
		}
		if err == nil && got.ID == t.ID && got.DisplayName == t.DisplayName && sameJSON(got.PayloadDataSchema, t.PayloadDataSchema) {
			continue
		}
		t.CreatedDate, t.UpdatedDate = now, now
		if err == nil {
			t.CreatedDate = got.CreatedDate
		}
		if err := s.PutTrigger(ctx, t); err != nil {
			return wrote, fmt.Errorf("register system trigger %s: %w", t.TriggerKey, err)
		}
		wrote = append(wrote, "trigger "+t.TriggerKey)
	}

	for _, a := range Actions() {
		got, err := s.GetAction(ctx, AppID, a.ActionKey)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return wrote, fmt.Errorf("read system action %s: %w", a.ActionKey, err)
		}
		if err == nil && got.ID == a.ID && got.DisplayName == a.DisplayName && sameJSON(got.InputSchema, a.InputSchema) &&
			sameJSON(got.OutputSchema, a.OutputSchema) && sameJSON(got.UISchema, a.UISchema) {
			continue
		}
		a.CreatedDate, a.UpdatedDate = now, now
		if err == nil {
			a.CreatedDate = got.CreatedDate
		}
		if err := s.PutAction(ctx, a); err != nil {
			return wrote, fmt.Errorf("register system action %s: %w", a.ActionKey, err)
		}
		wrote = append(wrote, "action "+a.ActionKey)
	}
	return wrote, nil
}

// sameJSON compares two JSON documents by value: stores may re-encode what they were given.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
