package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/switchyard-dev/switchyard/pkg/automation"
)

// CreateAutomation stores a new automation of a site; errs.ErrConflict when the id is taken on that site.
// A runnable automation (ACTIVE, with actions, not a draft) also carries the trigger index keys: the index
// is sparse, so ReportEvent's Query reads exactly the automations that may start, and drafts and inactive
// automations cost it nothing.
func (s *Store) CreateAutomation(ctx context.Context, siteID string, a *automation.Automation) error {
	what := fmt.Sprintf("automation %s of site %s", a.ID, siteID)
	doc, err := encodeDoc(what, a)
	if err != nil {
		return err
	}
	pk, sk := automationKey(siteID, a.ID)
	it := newItem("automation", pk, sk, doc)
	if a.IsActive() && a.Configuration.Trigger != nil {
		trig := a.Configuration.Trigger
		it[AttrGSI1PK] = str(triggerIndexKey(siteID, trig.AppID, trig.TriggerKey))
		it[AttrGSI1SK] = str(key(prefixAuto, a.ID))
	}
	return s.putNew(ctx, what, it)
}

// GetAutomation reads one automation of a site: the site is part of the key, so another site's automation
// is simply not found.
func (s *Store) GetAutomation(ctx context.Context, siteID, id string) (*automation.Automation, error) {
	var a automation.Automation
	pk, sk := automationKey(siteID, id)
	if _, err := s.getDoc(ctx, fmt.Sprintf("automation %s of site %s", id, siteID), pk, sk, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// ListTriggerAutomations returns the site's runnable automations on (appID, triggerKey): one Query of the
// trigger index, whose partition key is (site, app, trigger), never a scan.
//
// The index is eventually consistent: an automation created a moment ago may be missed by an event
// reported in the same instant (SQLite's index is consistent). The engine re-checks IsActive on each one.
func (s *Store) ListTriggerAutomations(ctx context.Context, siteID, appID, k string) ([]*automation.Automation, error) {
	in := &dynamodb.QueryInput{
		IndexName:                 aws.String(IndexByTrigger),
		KeyConditionExpression:    aws.String("#gsi1pk = :p"),
		ExpressionAttributeNames:  names("#gsi1pk"),
		ExpressionAttributeValues: item{":p": str(triggerIndexKey(siteID, appID, k))},
	}
	var out []*automation.Automation
	err := s.query(ctx, "trigger automations", in, func(it item) error {
		var a automation.Automation
		if err := decodeDoc(it, "automation", &a); err != nil {
			return err
		}
		out = append(out, &a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
