package automation

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/switchyard-dev/switchyard/pkg/errs"
)

// Limits of reference §2.3.
const (
	MaxNameLen        = 500
	MaxDescriptionLen = 2000
	MaxFilters        = 5
	MaxIDsPerList     = 20
	MaxActions        = 100
	MaxExpressionLen  = 2500
	MaxNamespaceLen   = 100
	MaxTriggerKeyLen  = 100
	MaxActionKeyLen   = 100
)

var (
	guidRe      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	namespaceRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// IsGUID reports whether s is a GUID in the canonical 8-4-4-4-12 form.
func IsGUID(s string) bool { return guidRe.MatchString(s) }

// violations accumulates field violations with their exact JSON paths.
type violations []errs.FieldViolation

func (v *violations) add(field, rule, format string, args ...any) {
	*v = append(*v, errs.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...), ViolatedRule: rule})
}

func (v *violations) strLen(field, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n < min && min == 1:
		v.add(field, "REQUIRED_FIELD", "must not be empty")
	case n < min:
		v.add(field, "MIN_LENGTH", "must be at least %d characters", min)
	case n > max:
		v.add(field, "MAX_LENGTH", "must be at most %d characters", max)
	}
}

func (v *violations) idList(field string, ids []string) {
	if len(ids) > MaxIDsPerList {
		v.add(field, "MAX_ITEMS", "must hold at most %d ids", MaxIDsPerList)
	}
	for i, id := range ids {
		if !IsGUID(id) {
			v.add(fmt.Sprintf("%s[%d]", field, i), "FORMAT", "must be a GUID")
		}
	}
}

// ValidateForSave checks what Create and Update accept: shapes and limits, and that every id the graph
// names exists. It does not check the catalog (that is Validate's job, reference §2.1: Create does not
// validate against triggers and actions). The field paths are those of the request, under "automation.".
func ValidateForSave(a *Automation) error {
	var v violations
	p := "automation."
	v.strLen(p+"name", a.Name, 1, MaxNameLen)
	if a.Description != nil {
		v.strLen(p+"description", *a.Description, 0, MaxDescriptionLen)
	}
	switch a.Origin {
	case OriginUser, OriginApplication, OriginPreinstalled, OriginRecipe:
	case "":
		v.add(p+"origin", "REQUIRED_FIELD", "must not be empty")
	default:
		v.add(p+"origin", "ENUM", "must be one of USER, APPLICATION, PREINSTALLED, RECIPE")
	}
	if a.Namespace != nil {
		v.strLen(p+"namespace", *a.Namespace, 0, 50)
	}
	c := a.Configuration
	if c == nil {
		v.add(p+"configuration", "REQUIRED_FIELD", "must not be empty")
		return errs.Violations(v)
	}
	cp := p + "configuration."
	switch c.Status {
	case StatusActive, StatusInactive:
	case "":
		v.add(cp+"status", "REQUIRED_FIELD", "must not be empty")
	default:
		v.add(cp+"status", "ENUM", "must be ACTIVE or INACTIVE")
	}
	validateTrigger(&v, cp+"trigger", c.Trigger)
	v.idList(cp+"rootActionIds", c.RootActionIDs)
	if len(c.Actions) > MaxActions {
		v.add(cp+"actions", "MAX_ITEMS", "must hold at most %d actions", MaxActions)
	}
	for _, id := range slices.Sorted(maps.Keys(c.Actions)) {
		validateAction(&v, fmt.Sprintf("%sactions.%s", cp, id), id, c.Actions[id])
	}
	for _, id := range slices.Sorted(maps.Keys(c.Actions)) {
		if a := c.Actions[id]; a != nil {
			for _, post := range a.PostActionIDs() {
				if _, ok := c.Actions[post]; !ok && IsGUID(post) {
					v.add(fmt.Sprintf("%sactions.%s", cp, id), "POST_ACTION_NOT_FOUND", "names post action %s, which is not in configuration.actions", post)
				}
			}
		}
	}
	for i, id := range c.RootActionIDs {
		if _, ok := c.Actions[id]; !ok {
			v.add(fmt.Sprintf("%srootActionIds[%d]", cp, i), "NOT_FOUND", "names no action in configuration.actions")
		}
	}
	if len(v) == 0 {
		// Each action runs at most once per activation and its run log is keyed by its id: the graph is a tree.
		parents := map[string]int{}
		for _, id := range c.RootActionIDs {
			parents[id]++
		}
		for _, id := range slices.Sorted(maps.Keys(c.Actions)) {
			for _, post := range c.Actions[id].PostActionIDs() {
				parents[post]++
			}
		}
		for _, id := range slices.Sorted(maps.Keys(parents)) {
			if parents[id] > 1 {
				v.add(cp+"actions."+id, "MULTIPLE_PARENTS", "is reached from more than one place; each action may follow only one action (or be one root)")
			}
		}
	}
	if len(v) == 0 {
		if cyc := findCycle(c); cyc != "" {
			v.add(cp+"actions."+cyc, "CYCLE", "is part of a cycle: the action graph must be acyclic")
		}
	}
	return errs.Violations(v)
}

func validateTrigger(v *violations, p string, t *Trigger) {
	if t == nil {
		v.add(p, "REQUIRED_FIELD", "must not be empty")
		return
	}
	if !IsGUID(t.AppID) {
		v.add(p+".appId", "FORMAT", "must be a GUID")
	}
	v.strLen(p+".triggerKey", t.TriggerKey, 1, MaxTriggerKeyLen)
	if len(t.Filters) > MaxFilters {
		v.add(p+".filters", "MAX_ITEMS", "must hold at most %d filters", MaxFilters)
	}
	for i, f := range t.Filters {
		fp := fmt.Sprintf("%s.filters[%d]", p, i)
		v.strLen(fp+".fieldKey", f.FieldKey, 1, 110)
		v.strLen(fp+".filterExpression", f.FilterExpression, 1, MaxExpressionLen)
	}
}

func validateAction(v *violations, p, key string, a *Action) {
	if a == nil {
		v.add(p, "REQUIRED_FIELD", "must not be empty")
		return
	}
	if !IsGUID(key) {
		v.add(p, "FORMAT", "action ids must be GUIDs")
	}
	if a.ID != "" && a.ID != key {
		v.add(p+".id", "MISMATCH", "must equal its key in configuration.actions")
	}
	if a.Namespace != "" && (len(a.Namespace) > MaxNamespaceLen || !namespaceRe.MatchString(a.Namespace)) {
		v.add(p+".namespace", "FORMAT", "must be 1..%d letters, digits, '_' or '-'", MaxNamespaceLen)
	}
	infos := 0
	for _, set := range []bool{a.AppDefinedInfo != nil, a.ConditionInfo != nil, a.DelayInfo != nil,
		a.RateLimitInfo != nil, a.SetVariablesInfo != nil, a.OutputInfo != nil} {
		if set {
			infos++
		}
	}
	if infos > 1 {
		v.add(p, "ONE_OF", "must carry exactly one *Info block")
	}
	switch a.Type {
	case TypeAppDefined:
		if a.AppDefinedInfo == nil {
			v.add(p+".appDefinedInfo", "REQUIRED_FIELD", "must not be empty for type APP_DEFINED")
			return
		}
		if !IsGUID(a.AppDefinedInfo.AppID) {
			v.add(p+".appDefinedInfo.appId", "FORMAT", "must be a GUID")
		}
		v.strLen(p+".appDefinedInfo.actionKey", a.AppDefinedInfo.ActionKey, 1, MaxActionKeyLen)
		v.idList(p+".appDefinedInfo.postActionIds", a.AppDefinedInfo.PostActionIDs)
		if len(a.AppDefinedInfo.SkipConditionOrExpressionGroups) > 10 {
			v.add(p+".appDefinedInfo.skipConditionOrExpressionGroups", "MAX_ITEMS", "must hold at most 10 groups")
		}
	case TypeCondition:
		if a.ConditionInfo == nil {
			v.add(p+".conditionInfo", "REQUIRED_FIELD", "must not be empty for type CONDITION")
			return
		}
		if n := len(a.ConditionInfo.OrExpressionGroups); n < 1 || n > 10 {
			v.add(p+".conditionInfo.orExpressionGroups", "ITEMS", "must hold 1..10 groups")
		}
		v.idList(p+".conditionInfo.truePostActionIds", a.ConditionInfo.TruePostActionIDs)
		v.idList(p+".conditionInfo.falsePostActionIds", a.ConditionInfo.FalsePostActionIDs)
	case TypeDelay:
		if a.DelayInfo == nil {
			v.add(p+".delayInfo", "REQUIRED_FIELD", "must not be empty for type DELAY")
			return
		}
		v.idList(p+".delayInfo.postActionIds", a.DelayInfo.PostActionIDs)
	case TypeRateLimit:
		if a.RateLimitInfo == nil {
			v.add(p+".rateLimitInfo", "REQUIRED_FIELD", "must not be empty for type RATE_LIMIT")
			return
		}
		v.idList(p+".rateLimitInfo.postActionIds", a.RateLimitInfo.PostActionIDs)
	case TypeSetVariables:
		if a.SetVariablesInfo == nil {
			v.add(p+".setVariablesInfo", "REQUIRED_FIELD", "must not be empty for type SET_VARIABLES")
			return
		}
		v.idList(p+".setVariablesInfo.postActionIds", a.SetVariablesInfo.PostActionIDs)
	case TypeOutput:
		if a.OutputInfo == nil {
			v.add(p+".outputInfo", "REQUIRED_FIELD", "must not be empty for type OUTPUT")
		}
	case "":
		v.add(p+".type", "REQUIRED_FIELD", "must not be empty")
	default:
		v.add(p+".type", "ENUM", "unsupported action type %q", a.Type)
	}
}

// DanglingPosts lists "actionId→postId" pairs whose post names no action; checked separately so that
// callers can report them as POST_ACTION_NOT_FOUND where Wix does.
func DanglingPosts(c *Configuration) []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(c.Actions)) {
		for _, post := range c.Actions[id].PostActionIDs() {
			if _, ok := c.Actions[post]; !ok {
				out = append(out, id+"→"+post)
			}
		}
	}
	return out
}

// findCycle returns the id of an action on a cycle, or "".
func findCycle(c *Configuration) string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var visit func(id string) string
	visit = func(id string) string {
		switch color[id] {
		case grey:
			return id
		case black:
			return ""
		}
		color[id] = grey
		if a := c.Actions[id]; a != nil {
			for _, post := range a.PostActionIDs() {
				if _, ok := c.Actions[post]; ok {
					if cyc := visit(post); cyc != "" {
						return cyc
					}
				}
			}
		}
		color[id] = black
		return ""
	}
	for _, id := range slices.Sorted(maps.Keys(c.Actions)) {
		if cyc := visit(id); cyc != "" {
			return cyc
		}
	}
	return ""
}
