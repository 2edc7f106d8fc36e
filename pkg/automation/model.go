// Package automation is the Automation of Wix Automations V2 in its wire form (reference §2.3), with the
// structural limits and graph rules every store and runtime relies on.
package automation

import (
	"time"
)

// Status of an automation.
const (
	StatusActive   = "ACTIVE"
	StatusInactive = "INACTIVE"
)

// Origins.
const (
	OriginUser         = "USER"
	OriginApplication  = "APPLICATION"
	OriginPreinstalled = "PREINSTALLED"
	OriginRecipe       = "RECIPE"
)

// Action types.
const (
	TypeAppDefined   = "APP_DEFINED"
	TypeCondition    = "CONDITION"
	TypeDelay        = "DELAY"
	TypeRateLimit    = "RATE_LIMIT"
	TypeSetVariables = "SET_VARIABLES"
	TypeOutput       = "OUTPUT"
)

// Automation is stored and served exactly in this shape.
type Automation struct {
	ID               string            `json:"id,omitempty"`
	Revision         string            `json:"revision,omitempty"`
	CreatedBy        *AuditInfo        `json:"createdBy,omitempty"`
	UpdatedBy        *AuditInfo        `json:"updatedBy,omitempty"`
	CreatedDate      *time.Time        `json:"createdDate,omitempty"`
	UpdatedDate      *time.Time        `json:"updatedDate,omitempty"`
	DraftUpdatedDate *time.Time        `json:"draftUpdatedDate,omitempty"`
	Name             string            `json:"name"`
	Description      *string           `json:"description,omitempty"`
	Configuration    *Configuration    `json:"configuration,omitempty"`
	Origin           string            `json:"origin,omitempty"`
	ApplicationInfo  *ApplicationInfo  `json:"applicationInfo,omitempty"`
	PreinstalledInfo *PreinstalledInfo `json:"preinstalledInfo,omitempty"`
	Settings         *Settings         `json:"settings,omitempty"`
	DraftInfo        *DraftInfo        `json:"draftInfo,omitempty"`
	Namespace        *string           `json:"namespace,omitempty"`
	ExtendedFields   map[string]any    `json:"extendedFields,omitempty"`
}

// AuditInfo names who created or last updated an automation: a user or an app.
type AuditInfo struct {
	UserID string `json:"userId,omitempty"`
	AppID  string `json:"appId,omitempty"`
}

type ApplicationInfo struct {
	AppID                string  `json:"appId"`
	AppDefinedExternalID *string `json:"appDefinedExternalId,omitempty"`
}

type PreinstalledInfo struct {
	AppID            string `json:"appId"`
	ComponentID      string `json:"componentId"`
	ComponentVersion int32  `json:"componentVersion"`
	Override         *bool  `json:"override,omitempty"`
}

type Settings struct {
	Hidden              bool            `json:"hidden,omitempty"`
	Readonly            bool            `json:"readonly,omitempty"`
	DisableDelete       bool            `json:"disableDelete,omitempty"`
	DisableStatusChange bool            `json:"disableStatusChange,omitempty"`
	ActionSettings      *ActionSettings `json:"actionSettings,omitempty"`
	Domain              string          `json:"domain,omitempty"`
}

type ActionSettings struct {
	PermanentActionIDs       []string `json:"permanentActionIds,omitempty"`
	ReadonlyActionIDs        []string `json:"readonlyActionIds,omitempty"`
	DisableDelayAddition     bool     `json:"disableDelayAddition,omitempty"`
	DisableConditionAddition bool     `json:"disableConditionAddition,omitempty"`
}

type DraftInfo struct {
	OriginalAutomationID *string `json:"originalAutomationId,omitempty"`
}

// Configuration is the trigger plus the action graph.
type Configuration struct {
	Status                      string                       `json:"status,omitempty"`
	Trigger                     *Trigger                     `json:"trigger,omitempty"`
	RootActionIDs               []string                     `json:"rootActionIds"`
	Actions                     map[string]*Action           `json:"actions"`
	FilterableAppDefinedActions *FilterableAppDefinedActions `json:"filterableAppDefinedActions,omitempty"`
}

type FilterableAppDefinedActions struct {
	ActionIdentifiers []string `json:"actionIdentifiers,omitempty"`
}

type Trigger struct {
	AppID                   string                      `json:"appId"`
	TriggerKey              string                      `json:"triggerKey"`
	Filters                 []Filter                    `json:"filters,omitempty"`
	ScheduledEventOffset    *FutureDateActivationOffset `json:"scheduledEventOffset,omitempty"`
	RateLimit               *TriggerRateLimit           `json:"rateLimit,omitempty"`
	AutomationConfigMapping map[string]any              `json:"automationConfigMapping,omitempty"`
	OverrideSchema          map[string]any              `json:"overrideSchema,omitempty"`
	FilterValueSelection    *FilterValueSelection       `json:"filterValueSelection,omitempty"`
}

type Filter struct {
	ID               string `json:"id,omitempty"`
	FieldKey         string `json:"fieldKey"`
	FilterExpression string `json:"filterExpression"`
}

type FutureDateActivationOffset struct {
	PreScheduledEventOffsetExpression string `json:"preScheduledEventOffsetExpression,omitempty"`
	ScheduledEventOffsetTimeUnit      string `json:"scheduledEventOffsetTimeUnit,omitempty"`
}

type TriggerRateLimit struct {
	MaxActivationsExpression   string  `json:"maxActivationsExpression,omitempty"`
	DurationExpression         *string `json:"durationExpression,omitempty"`
	DurationTimeUnit           string  `json:"durationTimeUnit,omitempty"`
	UniqueIdentifierExpression *string `json:"uniqueIdentifierExpression,omitempty"`
}

type FilterValueSelection struct {
	SelectedFilterValues []string `json:"selectedFilterValues,omitempty"`
}

// Action is one node of the graph; exactly one *Info matches its Type.
type Action struct {
	ID                   string            `json:"id,omitempty"`
	Type                 string            `json:"type"`
	Namespace            string            `json:"namespace,omitempty"`
	DisplayName          string            `json:"displayName,omitempty"`
	SkipActionExpression string            `json:"skipActionExpression,omitempty"`
	AppDefinedInfo       *AppDefinedInfo   `json:"appDefinedInfo,omitempty"`
	ConditionInfo        *ConditionInfo    `json:"conditionInfo,omitempty"`
	DelayInfo            *DelayInfo        `json:"delayInfo,omitempty"`
	RateLimitInfo        *RateLimitInfo    `json:"rateLimitInfo,omitempty"`
	SetVariablesInfo     *SetVariablesInfo `json:"setVariablesInfo,omitempty"`
	OutputInfo           *OutputInfo       `json:"outputInfo,omitempty"`
}

type AppDefinedInfo struct {
	AppID                           string                     `json:"appId"`
	ActionKey                       string                     `json:"actionKey"`
	InputMapping                    map[string]any             `json:"inputMapping,omitempty"`
	SkipConditionOrExpressionGroups []ConditionExpressionGroup `json:"skipConditionOrExpressionGroups,omitempty"`
	PostActionIDs                   []string                   `json:"postActionIds,omitempty"`
	OverrideOutputSchema            map[string]any             `json:"overrideOutputSchema,omitempty"`
}

type ConditionExpressionGroup struct {
	Operator           string   `json:"operator,omitempty"`
	BooleanExpressions []string `json:"booleanExpressions"`
}

type ConditionInfo struct {
	OrExpressionGroups []ConditionExpressionGroup `json:"orExpressionGroups"`
	TruePostActionIDs  []string                   `json:"truePostActionIds,omitempty"`
	FalsePostActionIDs []string                   `json:"falsePostActionIds,omitempty"`
}

type DelayInfo struct {
	OffsetExpression       *string  `json:"offsetExpression,omitempty"`
	OffsetTimeUnit         string   `json:"offsetTimeUnit,omitempty"`
	DueDateEpochExpression *string  `json:"dueDateEpochExpression,omitempty"`
	DueDateExpression      *string  `json:"dueDateExpression,omitempty"`
	PostActionIDs          []string `json:"postActionIds,omitempty"`
}

type RateLimitInfo struct {
	MaxActivationsExpression    string   `json:"maxActivationsExpression"`
	RateLimitDurationExpression *string  `json:"rateLimitDurationExpression,omitempty"`
	RateLimitDurationTimeUnit   string   `json:"rateLimitDurationTimeUnit,omitempty"`
	UniqueIdentifierExpression  *string  `json:"uniqueIdentifierExpression,omitempty"`
	PostActionIDs               []string `json:"postActionIds,omitempty"`
}

type SetVariablesInfo struct {
	OutputMapping map[string]any `json:"outputMapping,omitempty"`
	OutputSchema  map[string]any `json:"outputSchema,omitempty"`
	PostActionIDs []string       `json:"postActionIds,omitempty"`
}

type OutputInfo struct {
	OutputMapping map[string]any `json:"outputMapping,omitempty"`
}

// PostActionIDs lists every successor of the action, whatever its type.
func (a *Action) PostActionIDs() []string {
	switch {
	case a.AppDefinedInfo != nil:
		return a.AppDefinedInfo.PostActionIDs
	case a.ConditionInfo != nil:
		out := append([]string{}, a.ConditionInfo.TruePostActionIDs...)
		return append(out, a.ConditionInfo.FalsePostActionIDs...)
	case a.DelayInfo != nil:
		return a.DelayInfo.PostActionIDs
	case a.RateLimitInfo != nil:
		return a.RateLimitInfo.PostActionIDs
	case a.SetVariablesInfo != nil:
		return a.SetVariablesInfo.PostActionIDs
	}
	return nil
}

// HasActions reports whether the automation can run: one without actions is a draft (reference §2.3).
func (a *Automation) HasActions() bool {
	return a.Configuration != nil && len(a.Configuration.Actions) > 0 && len(a.Configuration.RootActionIDs) > 0
}

// IsActive reports whether events should start activations of this automation.
func (a *Automation) IsActive() bool {
	return a.Configuration != nil && a.Configuration.Status == StatusActive && a.HasActions() && a.DraftInfo == nil
}
