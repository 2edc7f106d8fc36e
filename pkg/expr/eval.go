package expr

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Env is what an evaluation reads: the payload, the clock and the step budget.
type Env struct {
	Payload  map[string]any   // the accumulated payload; var("x.y") reads from it
	Now      func() time.Time // injected clock for now() and date functions; nil → time.Now
	MaxSteps int              // evaluation step budget; 0 → DefaultMaxSteps
}

var (
	// ErrStepBudget is returned (wrapped) when an evaluation exceeds Env.MaxSteps.
	ErrStepBudget = errors.New("evaluation step budget exceeded")
	// ErrTooLarge is returned (wrapped) when an evaluation would build a string longer than MaxStringLen.
	ErrTooLarge = errors.New("value too large")
)

// EvalError is an evaluation failure with its context: the function and argument that failed and the byte
// offset of the call in the original input.
type EvalError struct {
	Pos  int
	Func string // "" when not inside a function
	Arg  int    // 1-based argument index; 0 when the failure is not about one argument
	Err  error
}

func (e *EvalError) Error() string {
	var b strings.Builder
	b.WriteString("expr: ")
	if e.Func != "" {
		fmt.Fprintf(&b, "%s at offset %d: ", e.Func, e.Pos)
	} else {
		fmt.Fprintf(&b, "at offset %d: ", e.Pos)
	}
	if e.Arg > 0 {
		fmt.Fprintf(&b, "arg %d: ", e.Arg)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *EvalError) Unwrap() error { return e.Err }

// argErr reports a problem with argument i (1-based) of the function being applied; the evaluator fills in
// the function name and position.
func argErr(i int, format string, a ...any) error {
	return &EvalError{Arg: i, Err: fmt.Errorf(format, a...)}
}

// evaluator holds the mutable state of one evaluation, so parsed values stay immutable and shareable.
type evaluator struct {
	env     *Env
	steps   int
	max     int
	elems   []any // $_ bindings, innermost last
	now     time.Time
	haveNow bool
}

func newEvaluator(env *Env) *evaluator {
	if env == nil {
		env = &Env{}
	}
	max := env.MaxSteps
	if max <= 0 {
		max = DefaultMaxSteps
	}
	return &evaluator{env: env, max: max}
}

// step charges one unit of the budget. Every node evaluation and every element an array function visits
// costs a step, so evaluation time is bounded by MaxSteps whatever the input.
func (ev *evaluator) step(pos int) error {
	ev.steps++
	if ev.steps > ev.max {
		return &EvalError{Pos: pos, Err: fmt.Errorf("%w (%d)", ErrStepBudget, ev.max)}
	}
	return nil
}

// charge costs n steps at once, for work proportional to the size of a value (sorting, scanning lists).
func (ev *evaluator) charge(n int) error {
	if n <= 0 {
		return nil
	}
	ev.steps += n - 1
	return ev.step(0)
}

// clock returns one instant per evaluation, so now() is consistent within an expression.
func (ev *evaluator) clock() time.Time {
	if !ev.haveNow {
		if ev.env.Now != nil {
			ev.now = ev.env.Now()
		} else {
			ev.now = time.Now()
		}
		ev.haveNow = true
	}
	return ev.now
}

func (ev *evaluator) eval(n *node) (any, error) {
	if err := ev.step(n.pos); err != nil {
		return nil, err
	}
	switch n.kind {
	case nLit:
		return n.val, nil
	case nArray:
		out := make([]any, len(n.args))
		for i, a := range n.args {
			v, err := ev.eval(a)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case nPath:
		v, _ := lookupSegs(ev.env.Payload, n.path)
		return v, nil
	case nRoot:
		if ev.env.Payload == nil {
			return nil, nil
		}
		if len(n.path) == 0 {
			return ev.env.Payload, nil
		}
		v, _ := lookupSegs(ev.env.Payload, n.path)
		return v, nil
	case nElem:
		var cur any
		if len(ev.elems) > 0 {
			cur = ev.elems[len(ev.elems)-1]
		}
		if len(n.path) == 0 {
			return cur, nil
		}
		m, _ := cur.(map[string]any)
		v, _ := lookupSegs(m, n.path)
		return v, nil
	case nCall:
		var v any
		var err error
		if n.fn.lazy != nil {
			v, err = n.fn.lazy(ev, n)
		} else {
			args := make([]any, len(n.args))
			for i, a := range n.args {
				if args[i], err = ev.eval(a); err != nil {
					return nil, err
				}
			}
			v, err = n.fn.eager(ev, args)
		}
		if err != nil {
			return nil, annotate(err, n)
		}
		return v, nil
	}
	return nil, &EvalError{Pos: n.pos, Err: errors.New("internal: unknown node")}
}

// annotate gives an error from a function its context once: errors that already name a function came from
// a nested call and are passed through unchanged, so messages point at the innermost failing call.
func annotate(err error, n *node) error {
	var ee *EvalError
	if errors.As(err, &ee) {
		if ee.Func == "" {
			ee.Func, ee.Pos = n.fn.name, n.pos
		}
		return err
	}
	return &EvalError{Pos: n.pos, Func: n.fn.name, Err: err}
}

// Lookup resolves a dotted path ("a.b.c") in a payload; segments may contain '-'. ok is false when the
// path is absent; a present JSON null returns (nil, true). There is no array indexing (Wix has none).
func Lookup(payload map[string]any, path string) (any, bool) {
	if path == "" {
		return nil, false
	}
	var cur any = payload
	for {
		seg, rest, more := strings.Cut(path, ".")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
		if !more {
			return cur, true
		}
		path = rest
	}
}

func lookupSegs(m map[string]any, segs []string) (any, bool) {
	if len(segs) == 0 {
		return nil, false
	}
	var cur any = m
	for _, s := range segs {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[s]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func splitPath(s string) []string { return strings.Split(s, ".") }
