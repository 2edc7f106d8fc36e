package dynamo

import (
	"fmt"
	"strings"
)

// Attribute names. They are part of the table's contract with template.yaml (the key schema and the GSI),
// so they are exported for the deploy-time check and kept short: attribute names count toward item size.
const (
	AttrPK        = "pk"
	AttrSK        = "sk"
	AttrGSI1PK    = "gsi1pk"
	AttrGSI1SK    = "gsi1sk"
	AttrExpiresAt = "expiresAt" // TTL attribute: epoch seconds; readers treat an item past it as absent

	AttrGSI2PK = "gsi2pk"
	AttrGSI2SK = "gsi2sk"
	AttrGSI3PK = "gsi3pk"
	AttrGSI3SK = "gsi3sk"
	AttrGSI4PK = "gsi4pk"
	AttrGSI4SK = "gsi4sk"
	AttrGSI5PK = "gsi5pk"
	AttrGSI5SK = "gsi5sk"

	// IndexByTrigger is the sparse GSI that ReportEvent matches through: only runnable automations carry
	// its key attributes. Projects ALL: matching needs the automation documents.
	IndexByTrigger = "gsi1"
	// IndexActivationsBySite and IndexActivationsByAutomation list a site's activations (of one
	// automation) by creation time for ListActivationLogs. KEYS_ONLY, like the two below: a step changes
	// the activation item on every commit, and an index that projected those attributes would be
	// rewritten each time; keys change only at creation and at the end.
	IndexActivationsBySite       = "gsi2"
	IndexActivationsByAutomation = "gsi3"
	// IndexPendingByEntity and IndexPendingByAutomation are sparse: an activation carries their keys only
	// while it is pending (INITIATED, SCHEDULED, STARTED), so CancelEvent and the cancellation of a
	// deactivated automation read exactly the activations they may cancel.
	IndexPendingByEntity     = "gsi4"
	IndexPendingByAutomation = "gsi5"
)

// Non-key attributes.
const (
	attrKind          = "kind" // what the item is; only for people reading the table in the console
	attrDoc           = "doc"  // the record as JSON
	attrValue         = "value"
	attrVersion       = "version"
	attrState         = "state"
	attrDueAt         = "dueAt"
	attrSeq           = "seq"
	attrStatus        = "status"
	attrOpenBranches  = "openBranches"
	attrFailedActions = "failedActions"
	attrUpdatedDate   = "updatedDate"
	attrStartedInfo   = "startedInfo"
	attrEndedInfo     = "endedInfo"
	attrLogSeq        = "logSeq"
	attrLastCommitAt  = "lastCommitAt"
	attrSiteID        = "siteId"
	attrAutomationID  = "automationId"
	attrKeyID         = "keyId"
	attrKeyHash       = "keyHash"
	attrCancelledInfo = "cancelledInfo"
	attrWarnings      = "warnings" // an activation's warnings: a list of JSON documents
	attrOnceExpiresMs = "onceExpiresMs"
	attrHits          = "hits"
	attrCounterMs     = "windowEndsMs" // a counter window's end in ms, 0 for never; expiresAt is its TTL copy
	attrRevision      = "revision"     // an automation's revision as a number: the guard of UpdateAutomation
	attrDeleting      = "deleting"     // on an automation being deleted (ms since the epoch): readers skip it
)

// Sort-key constants and partition prefixes. Every partition key starts with the entity it belongs to, so
// no two kinds of record can ever share a key.
const (
	skApp            = "APP"
	skSetting        = "SETTING"
	skAPIKey         = "KEY"
	skActivation     = "ACT"
	prefixTrigger    = "TRIGGER"
	prefixAction     = "ACTION"
	prefixInstall    = "INSTALL"
	prefixAuto       = "AUTO"
	prefixBranch     = "BRANCH"
	prefixLog        = "LOG"
	prefixTrigKey    = "TRIG"
	prefixApp        = "APP"
	prefixSite       = "SITE"
	prefixSetting    = "SETTING"
	prefixKeyHash    = "KEYHASH"
	prefixKeyID      = "KEYID"
	prefixActivation = "ACT"
	prefixOnce       = "ONCE"
	prefixActs       = "ACTS"
	prefixPending    = "PEND"
	prefixCounter    = "COUNTER"
	skCounter        = "COUNTER"
	prefixRevision   = "REV"
)

// key joins parts with '#', escaping '%' and '#' inside each part. Ids are GUIDs today, but trigger keys and
// setting names are free text: without escaping, ("a#b", "c") and ("a", "b#c") would collide, and for the
// trigger index a collision would match one site's automations to another site's events.
func key(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('#')
		}
		for j := 0; j < len(p); j++ {
			switch c := p[j]; c {
			case '%':
				b.WriteString("%25")
			case '#':
				b.WriteString("%23")
			default:
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// Primary keys of each record.

func appKey(id string) (string, string)         { return key(prefixApp, id), skApp }
func triggerKey(app, k string) (string, string) { return key(prefixApp, app), key(prefixTrigger, k) }
func actionKey(app, k string) (string, string)  { return key(prefixApp, app), key(prefixAction, k) }
func installKey(site, app string) (string, string) {
	return key(prefixSite, site), key(prefixInstall, app)
}
func apiKeyByHash(hash string) (string, string) { return key(prefixKeyHash, hash), skAPIKey }
func apiKeyByID(id string) (string, string)     { return key(prefixKeyID, id), skAPIKey }
func settingKey(name string) (string, string)   { return key(prefixSetting, name), skSetting }
func automationKey(site, id string) (string, string) {
	return key(prefixSite, site), key(prefixAuto, id)
}

// automationRevisionKey is one recorded revision of an automation, in a partition of the automation's own
// (not the site's: QueryAutomations reads the site partition whole, and must not read the history). The
// revision is zero-padded so that the partition sorts oldest first.
func automationRevisionKey(site, id string, revision int64) (string, string) {
	return automationRevisions(site, id), fmt.Sprintf("%s#%020d", prefixRevision, revision)
}
func automationRevisions(site, id string) string { return key(prefixAuto, site, id) }

func activationKey(id string) (string, string) { return key(prefixActivation, id), skActivation }
func branchKey(act, id string) (string, string) {
	return key(prefixActivation, act), key(prefixBranch, id)
}
func actionLogKey(act, actionID string) (string, string) {
	return key(prefixActivation, act), key(prefixLog, actionID)
}

func onceKey(scope, k string) (string, string) { return key(prefixOnce, scope, k), prefixOnce }

// triggerIndexKey is the GSI partition of the automations a reported event matches.
func triggerIndexKey(site, app, trigger string) string { return key(prefixTrigKey, site, app, trigger) }

// Partitions of the activation indexes.
func activationsBySite(site string) string             { return key(prefixActs, site) }
func activationsByAutomation(site, auto string) string { return key(prefixActs, site, auto) }
func pendingByEntity(site, app, trigger, entity string) string {
	return key(prefixPending, site, app, trigger, entity)
}
func pendingByAutomation(site, auto string) string { return key(prefixPending, site, auto) }

// createdSortKey orders activations by (creation time, id) as strings: the time is fixed-width
// milliseconds, so string order is the order SQLite's (created_at, id) index gives. The id is not escaped:
// this key is only compared, never parsed.
// Times outside year 1970…2286 are clamped so that the width, and with it the order, holds.
func createdSortKey(ms int64, id string) string {
	return fmt.Sprintf("%013d#%s", min(max(ms, 0), maxSortMillis), id)
}

const maxSortMillis = 9_999_999_999_999
