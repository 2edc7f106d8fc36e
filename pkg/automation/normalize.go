package automation

import (
	"fmt"
	"maps"
	"slices"
)

// Normalize fills what Wix fills on save: each action's id from its key, and the default namespace
// `<actionKey>-<N>` (or `<TYPE>-<N>`, `setVariable` for SET_VARIABLES) in graph order, N counting from 1
// per key, so that action outputs have a stable place in the payload.
func Normalize(a *Automation) {
	c := a.Configuration
	if c == nil {
		return
	}
	if c.Actions == nil {
		c.Actions = map[string]*Action{}
	}
	if c.RootActionIDs == nil {
		c.RootActionIDs = []string{}
	}
	counts := map[string]int{}
	for _, id := range GraphOrder(c) {
		act := c.Actions[id]
		act.ID = id
		if act.Namespace != "" {
			continue
		}
		base := act.Type
		switch {
		case act.Type == TypeSetVariables:
			act.Namespace = "setVariable"
			continue
		case act.AppDefinedInfo != nil:
			base = act.AppDefinedInfo.ActionKey
		}
		if base == "" {
			continue
		}
		counts[base]++
		act.Namespace = fmt.Sprintf("%s-%d", base, counts[base])
	}
}

// GraphOrder lists action ids breadth-first from the roots, then any unreachable ones by id, each once.
func GraphOrder(c *Configuration) []string {
	seen := map[string]bool{}
	var order []string
	queue := append([]string{}, c.RootActionIDs...)
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		act, ok := c.Actions[id]
		if !ok || act == nil || seen[id] {
			continue
		}
		seen[id] = true
		order = append(order, id)
		queue = append(queue, act.PostActionIDs()...)
	}
	for _, id := range slices.Sorted(maps.Keys(c.Actions)) {
		if !seen[id] && c.Actions[id] != nil {
			order = append(order, id)
		}
	}
	return order
}
