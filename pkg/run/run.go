// Package run holds the records of an automation run — the activation, its branches (the independent
// paths of the action graph being walked) and one log per action — with Wix's statuses (reference §3.4–3.5).
// Both runtimes store exactly these records; the run-log API serves projections of them.
package run

import (
	"time"

	"github.com/switchyard-dev/switchyard/pkg/automation"
)

// Status of an activation.
type Status string

const (
	StatusInitiated Status = "INITIATED"
	StatusScheduled Status = "SCHEDULED"
	StatusStarted   Status = "STARTED"
	StatusEnded     Status = "ENDED"
	StatusCancelled Status = "CANCELLED"
	StatusFailed    Status = "FAILED"
	StatusSkipped   Status = "SKIPPED"
)

// Terminal reports whether no further step may change the activation.
func (s Status) Terminal() bool {
	switch s {
	case StatusEnded, StatusCancelled, StatusFailed, StatusSkipped:
		return true
	}
	return false
}

// ActionStatus of one action within an activation.
type ActionStatus string

const (
	ActionStarted      ActionStatus = "STARTED"
	ActionInvokedAsync ActionStatus = "INVOKED_ASYNC"
	ActionEnded        ActionStatus = "ENDED"
	ActionSkipped      ActionStatus = "SKIPPED"
	ActionFailed       ActionStatus = "FAILED"
)

// Initiation sources (seed 002, activationSourceInfo).
const (
	SourceTriggerEvent = "TRIGGER_PROVIDER_EVENT"
	SourceManual       = "MANUAL_ACTIVATION"
	SourceRerun        = "RERUN_ACTIVATION"
)

// Source says how an activation was started.
type Source struct {
	Kind                 string `json:"activationInitiationSource"`
	TestMode             bool   `json:"testMode,omitempty"`
	OriginalActivationID string `json:"originalActivationId,omitempty"`
	SkipDelays           bool   `json:"skipDelays,omitempty"`
	InitiatorUserID      string `json:"initiatorUserId,omitempty"`
}

// Activation is one run of one automation revision.
type Activation struct {
	ID                 string                 `json:"id"`
	SiteID             string                 `json:"siteId"`
	AutomationID       string                 `json:"automationId"`
	AutomationRevision string                 `json:"automationRevision"`
	Automation         *automation.Automation `json:"automation"` // the revision being run, frozen at start
	TriggerAppID       string                 `json:"triggerAppId"`
	TriggerKey         string                 `json:"triggerKey"`
	ExternalEntityID   string                 `json:"externalEntityId,omitempty"`
	RequestID          string                 `json:"requestId,omitempty"`
	Source             Source                 `json:"source"`
	Status             Status                 `json:"status"`
	OpenBranches       int                    `json:"openBranches"`
	FailedActions      int                    `json:"failedActions"`
	CreatedDate        time.Time              `json:"createdDate"`
	UpdatedDate        time.Time              `json:"updatedDate"`
	Infos              ActivationInfos        `json:"infos"`
	// Warnings are problems that did not stop the run (reference §3.5), oldest first.
	Warnings []Warning `json:"warnings,omitempty"`
}

// Warning is something that went wrong around an activation without stopping it (reference §3.5), such
// as an identity enrichment that could not load its contact.
type Warning struct {
	WarningDate      time.Time `json:"warningDate"`
	ErrorDescription string    `json:"errorDescription"`
	ErrorCode        string    `json:"errorCode,omitempty"` // ≤ 20 characters
	Reason           string    `json:"reason"`
}

// Warning reasons (reference §3.5).
const (
	WarningContactEnrichmentFailed = "GET_CONTACT_ENRICHMENT_FAILED"
	WarningRefreshPayloadFailed    = "REFRESH_PAYLOAD_FAILED"
)

// MaxWarnings is how many warnings an activation log keeps (reference §3.5: ≤ 15); later ones are dropped.
const MaxWarnings = 15

// ActivationInfos are the per-status blocks of the activation log; each is set when the status is reached.
type ActivationInfos struct {
	Initiated *InitiatedInfo `json:"initiatedInfo,omitempty"`
	Started   *StartedInfo   `json:"startedInfo,omitempty"`
	Ended     *EndedInfo     `json:"endedInfo,omitempty"`
	Cancelled *CancelledInfo `json:"cancelledInfo,omitempty"`
	Failed    *FailedInfo    `json:"failedInfo,omitempty"`
	Skipped   *SkippedInfo   `json:"skippedInfo,omitempty"`
}

type InitiatedInfo struct {
	Target            string         `json:"target"`
	Payload           map[string]any `json:"payload"`
	ExternalEntityID  string         `json:"externalEntityId,omitempty"`
	RequestID         string         `json:"requestId,omitempty"`
	StatusChangedDate time.Time      `json:"statusChangedDate"`
}

type StartedInfo struct {
	Payload           map[string]any `json:"payload"`
	StatusChangedDate time.Time      `json:"statusChangedDate"`
}

type EndedInfo struct {
	WithFailedActions bool      `json:"withFailedActions"`
	StatusChangedDate time.Time `json:"statusChangedDate"`
}

type CancelledInfo struct {
	Reason            string     `json:"reason"`
	Initiator         *Initiator `json:"initiator,omitempty"`
	StatusChangedDate time.Time  `json:"statusChangedDate"`
}

type Initiator struct {
	UserID string `json:"userId,omitempty"`
	AppID  string `json:"appId,omitempty"`
}

type FailedInfo struct {
	ErrorDescription  string         `json:"errorDescription"`
	ErrorCode         string         `json:"errorCode,omitempty"`
	ErrorReason       string         `json:"errorReason,omitempty"`
	Payload           map[string]any `json:"payload,omitempty"`
	ExternalEntityID  string         `json:"externalEntityId,omitempty"`
	StatusChangedDate time.Time      `json:"statusChangedDate"`
}

type SkippedInfo struct {
	Reason            string         `json:"reason"`
	Payload           map[string]any `json:"payload,omitempty"`
	ExternalEntityID  string         `json:"externalEntityId,omitempty"`
	StatusChangedDate time.Time      `json:"statusChangedDate"`
}

// BranchState is where a branch stands; every branch not DONE is due at DueAt.
type BranchState string

const (
	BranchReady    BranchState = "READY"    // ActionID is to run now
	BranchWaiting  BranchState = "WAITING"  // in a delay until DueAt
	BranchAwaiting BranchState = "AWAITING" // an async action waits for completion or its deadline (DueAt)
	BranchDone     BranchState = "DONE"
)

// Branch is one independent path through the action graph. Its id is the id of the action it started at,
// so forks are deterministic (and Step Functions execution names derived from them are idempotent).
type Branch struct {
	ActivationID string         `json:"activationId"`
	ID           string         `json:"id"`
	Version      int64          `json:"version"`
	State        BranchState    `json:"state"`
	ActionID     string         `json:"actionId,omitempty"`
	Payload      map[string]any `json:"payload"`
	DueAt        time.Time      `json:"dueAt"`
	Await        *Await         `json:"await,omitempty"`
	// CompletedTokens holds the hashes of invocation tokens already completed on this branch, so that a
	// provider repeating ReportActionInvocationCompleted is told so instead of "not found".
	CompletedTokens []string `json:"completedTokens,omitempty"`
}

// Await is an async action's wait for ReportActionInvocationCompleted.
type Await struct {
	ActionID   string      `json:"actionId"`
	TokenHash  string      `json:"tokenHash"`
	Deadline   time.Time   `json:"deadline"`
	TaskToken  string      `json:"taskToken,omitempty"` // Step Functions task token while parked (AWS runtime)
	Completion *Completion `json:"completion,omitempty"`
}

// Completion is what the provider reported for an async action.
type Completion struct {
	Success          bool           `json:"success"`
	Result           map[string]any `json:"result,omitempty"`
	ErrorDescription string         `json:"errorDescription,omitempty"`
	ReceivedDate     time.Time      `json:"receivedDate"`
}

// ActionLog is the run log of one action of one activation.
type ActionLog struct {
	ActivationID     string             `json:"activationId"`
	ActionID         string             `json:"id"`
	Type             string             `json:"type"`
	Status           ActionStatus       `json:"activationStatus"`
	Seq              int64              `json:"-"`
	StartedInfo      *ActionStartedInfo `json:"startedInfo,omitempty"`
	InvokedAsyncInfo *ActionInvokedInfo `json:"invokedAsyncInfo,omitempty"`
	EndedInfo        *ActionEndedInfo   `json:"endedInfo,omitempty"`
	SkippedInfo      *ActionSkippedInfo `json:"skippedInfo,omitempty"`
	FailedInfo       *ActionFailedInfo  `json:"failedInfo,omitempty"`
}

type ActionStartedInfo struct {
	AppDefinedActionInfo *AppDefinedInput `json:"appDefinedActionInfo,omitempty"`
	DelayActionInfo      *DelayDate       `json:"delayActionInfo,omitempty"`
	StatusChangedDate    time.Time        `json:"statusChangedDate"`
}

type AppDefinedInput struct {
	Input map[string]any `json:"input"`
}

type DelayDate struct {
	Date time.Time `json:"date"`
}

type ActionInvokedInfo struct {
	AppDefinedActionInfo *AsyncInfo `json:"appDefinedActionInfo,omitempty"`
	StatusChangedDate    time.Time  `json:"statusChangedDate"`
}

type AsyncInfo struct {
	Output      map[string]any `json:"output,omitempty"`
	TimeoutDate time.Time      `json:"timeoutDate"`
}

type ActionEndedInfo struct {
	AppDefinedActionInfo   *AppDefinedOutput `json:"appDefinedActionInfo,omitempty"`
	ConditionActionInfo    *ConditionResult  `json:"conditionActionInfo,omitempty"`
	RateLimitActionInfo    *Passed           `json:"rateLimitActionInfo,omitempty"`
	DelayActionInfo        *DelayPayload     `json:"delayActionInfo,omitempty"`
	SetVariablesActionInfo *AppDefinedOutput `json:"setVariablesActionInfo,omitempty"`
	OutputActionInfo       *AppDefinedOutput `json:"outputActionInfo,omitempty"`
	StatusChangedDate      time.Time         `json:"statusChangedDate"`
}

type AppDefinedOutput struct {
	Output map[string]any `json:"output"`
}

type ConditionResult struct {
	Passed            bool                        `json:"passed"`
	ExpressionResults map[string]ExpressionResult `json:"expressionResults,omitempty"`
}

type ExpressionResult struct {
	Passed bool   `json:"passed"`
	Error  string `json:"error,omitempty"`
}

type Passed struct {
	Passed bool `json:"passed"`
}

type DelayPayload struct {
	Payload map[string]any `json:"payload,omitempty"`
}

type ActionSkippedInfo struct {
	Reason            string    `json:"reason,omitempty"`
	StatusChangedDate time.Time `json:"statusChangedDate"`
}

type ActionFailedInfo struct {
	ErrorDescription  string    `json:"errorDescription"`
	ErrorCode         string    `json:"errorCode,omitempty"`
	StatusChangedDate time.Time `json:"statusChangedDate"`
}

// BranchRef names one branch of one activation: the unit the runners schedule.
type BranchRef struct {
	ActivationID string `json:"activationId"`
	BranchID     string `json:"branchId"`
}

// NewActivation is an activation to create together with its root branches.
type NewActivation struct {
	Activation Activation
	Branches   []Branch
}

// StepCommit is everything one engine step changes, written atomically by the store. The stored branch
// must still be at version Branch.Version-1, so two workers can never both commit the same step.
type StepCommit struct {
	ActivationID  string
	Branch        Branch
	NewBranches   []Branch
	ActionLogs    []ActionLog
	Started       *StartedInfo // the activation's first step: INITIATED → STARTED
	FailedActions int          // actions this step marked FAILED
	Warnings      []Warning    // appended to the activation's warnings (up to MaxWarnings in all)
	Now           time.Time
}

// CommitResult reports what a commit did to the activation.
type CommitResult struct {
	Ended bool // the last open branch ended: the activation is now ENDED
}

// Once is an idempotency record: the activations one reported event started, kept until ExpiresAt so that
// a repeat of the event with the same key starts nothing (reference §3.1).
type Once struct {
	Scope         string    `json:"scope"` // site/app/trigger key: keys are per trigger of an app on a site
	Key           string    `json:"key"`
	ActivationIDs []string  `json:"activationIds"`
	CreatedDate   time.Time `json:"createdDate"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

// Cancellation is what cancels pending activations: an event's entity, or an automation.
type Cancellation struct {
	SiteID           string
	TriggerAppID     string // with TriggerKey and ExternalEntityID: CancelEvent
	TriggerKey       string
	ExternalEntityID string
	AutomationID     string // or every pending activation of one automation (deactivated, deleted)
	ActivationID     string // or this one activation, if pending (refresh-payload asked to cancel it)
	Reason           string
	Initiator        *Initiator
	Now              time.Time
}

// Cancellation reasons (reference §3.4).
const (
	CancelEventCancelled        = "EVENT_CANCELLED"
	CancelAutomationDeactivated = "AUTOMATION_DEACTIVATED"
	CancelAutomationDeleted     = "AUTOMATION_DELETED"
	CancelByRefreshPayload      = "CANCELLED_BY_REFRESH_PAYLOAD"
)

// ActivationQuery selects a site's activations for the run-log list, newest first.
type ActivationQuery struct {
	SiteID       string
	AutomationID string // optional
	From, To     time.Time
	Limit        int
	Cursor       string
}

// Counter is one rate-limit window: at most Limit hits of Key until ExpiresAt (zero: never expires).
type Counter struct {
	Key       string
	Limit     int
	ExpiresAt time.Time
	Now       time.Time
}

// Release ends a worker's lease on a branch; it can be claimed again once due and past Until.
type Release struct {
	Ref   BranchRef
	Until time.Time
}

// AppendWarnings adds warnings to an activation's list, keeping at most MaxWarnings (the first ones).
func AppendWarnings(have, add []Warning) []Warning {
	room := MaxWarnings - len(have)
	if room <= 0 || len(add) == 0 {
		return have
	}
	return append(have, add[:min(room, len(add))]...)
}
