package expr

import (
	"sort"
	"strconv"
)

// Mapping is a parsed JSON value whose strings are templates: an action's inputMapping or a set-variables
// outputMapping. Parse it once when the automation is saved (errors then point at the field) and evaluate
// it per activation.
type Mapping struct {
	root mnode
	vars []string
}

type mnode struct {
	tmpl  *Template // a string
	keys  []string  // an object: sorted keys, so errors are deterministic
	elems []mnode   // an object's values (in keys order) or an array's elements
	isArr bool
	isObj bool
	value any // any other value, copied on evaluation
}

// MappingError names the JSON path of the string that failed, e.g. `body.text` or `items[2].name`.
type MappingError struct {
	Path string
	Err  error
}

func (e *MappingError) Error() string {
	if e.Path == "" {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Err.Error()
}
func (e *MappingError) Unwrap() error { return e.Err }

// ParseMapping parses every string in a JSON value (map[string]any / []any / scalars as from encoding/json).
func ParseMapping(mapping any) (*Mapping, error) {
	m := &Mapping{}
	seen := map[string]bool{}
	var walk func(v any, path string) (mnode, error)
	walk = func(v any, path string) (mnode, error) {
		switch x := v.(type) {
		case string:
			t, err := ParseTemplate(x)
			if err != nil {
				return mnode{}, &MappingError{Path: path, Err: err}
			}
			for _, p := range t.vars {
				if !seen[p] {
					seen[p] = true
					m.vars = append(m.vars, p)
				}
			}
			return mnode{tmpl: t}, nil
		case map[string]any:
			n := mnode{isObj: true, keys: make([]string, 0, len(x))}
			for k := range x {
				n.keys = append(n.keys, k)
			}
			sort.Strings(n.keys)
			for _, k := range n.keys {
				c, err := walk(x[k], joinKey(path, k))
				if err != nil {
					return mnode{}, err
				}
				n.elems = append(n.elems, c)
			}
			return n, nil
		case []any:
			n := mnode{isArr: true, elems: make([]mnode, 0, len(x))}
			for i, e := range x {
				c, err := walk(e, path+"["+strconv.Itoa(i)+"]")
				if err != nil {
					return mnode{}, err
				}
				n.elems = append(n.elems, c)
			}
			return n, nil
		}
		c, err := deepCopy(v)
		if err != nil {
			return mnode{}, &MappingError{Path: path, Err: err}
		}
		return mnode{value: c}, nil
	}
	root, err := walk(mapping, "")
	if err != nil {
		return nil, err
	}
	m.root = root
	return m, nil
}

func joinKey(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// Vars returns every payload path the mapping reads, deduplicated, in key order.
func (m *Mapping) Vars() []string { return append([]string(nil), m.vars...) }

// Eval evaluates every template in the mapping against env. The whole mapping shares one step budget.
func (m *Mapping) Eval(env *Env) (any, error) {
	ev := newEvaluator(env)
	var walk func(n *mnode, path string) (any, error)
	walk = func(n *mnode, path string) (any, error) {
		switch {
		case n.tmpl != nil:
			v, err := n.tmpl.eval(ev)
			if err != nil {
				return nil, &MappingError{Path: path, Err: err}
			}
			return v, nil
		case n.isObj:
			out := make(map[string]any, len(n.keys))
			for i, k := range n.keys {
				v, err := walk(&n.elems[i], joinKey(path, k))
				if err != nil {
					return nil, err
				}
				out[k] = v
			}
			return out, nil
		case n.isArr:
			out := make([]any, len(n.elems))
			for i := range n.elems {
				v, err := walk(&n.elems[i], path+"["+strconv.Itoa(i)+"]")
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		}
		// Copying a value that was already copied at parse time cannot fail.
		v, _ := deepCopy(n.value)
		return v, nil
	}
	return walk(&m.root, "")
}

// EvalMapping walks a JSON value and evaluates every string as a template; other values are copied.
// Errors name the JSON path of the failing string, e.g. `body.text`. Callers that evaluate the same
// mapping repeatedly should ParseMapping once instead.
func EvalMapping(mapping any, env *Env) (any, error) {
	m, err := ParseMapping(mapping)
	if err != nil {
		return nil, err
	}
	return m.Eval(env)
}
