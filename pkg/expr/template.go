package expr

import (
	"fmt"
	"strings"
)

// Template is a parsed string value that may embed {{ … }} expressions.
type Template struct {
	src   string
	parts []part // text and expressions in order; empty when the value has no {{
	// single is set when the value is exactly one {{expr}} with only whitespace around it: such a value
	// evaluates to the expression's typed value rather than to text (number and boolean fields rely on it).
	single *node
	vars   []string
}

type part struct {
	text string
	expr *node // nil for a text part
}

// ParseTemplate parses a string value. Text outside {{ … }} is kept verbatim (a stray "}}" is just text);
// a "{{" without its closing "}}" is an error.
func ParseTemplate(s string) (*Template, error) {
	if err := checkLen(s); err != nil {
		return nil, err
	}
	t := &Template{src: s}
	p := &parser{src: s}
	exprs := 0
	text := 0 // start of the pending text part
	for {
		i := strings.Index(s[p.pos:], "{{")
		if i < 0 {
			break
		}
		open := p.pos + i
		p.pos = open + 2
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		p.skipWS()
		if !strings.HasPrefix(s[p.pos:], "}}") {
			if p.pos >= len(s) {
				return nil, p.errf(open, "unterminated {{: expected }}")
			}
			return nil, p.errf(p.pos, "expected }}, found %s", p.found())
		}
		p.pos += 2
		if open > text {
			t.parts = append(t.parts, part{text: s[text:open]})
		}
		t.parts = append(t.parts, part{expr: n})
		exprs++
		text = p.pos
	}
	if exprs == 0 {
		t.parts = nil
		return t, nil
	}
	if text < len(s) {
		t.parts = append(t.parts, part{text: s[text:]})
	}
	t.vars = p.vars
	if exprs == 1 {
		single := true
		for _, pt := range t.parts {
			if pt.expr == nil && strings.TrimSpace(pt.text) != "" {
				single = false
			}
		}
		if single {
			for _, pt := range t.parts {
				if pt.expr != nil {
					t.single = pt.expr
				}
			}
		}
	}
	return t, nil
}

// String returns the source text.
func (t *Template) String() string { return t.src }

// IsDynamic reports whether the template contains at least one {{…}}.
func (t *Template) IsDynamic() bool { return len(t.parts) > 0 }

// IsSingle reports whether the template is exactly one {{expr}} (whitespace around it allowed), i.e. whether
// Eval returns the expression's typed value. Number, boolean and date fields must be single or static.
func (t *Template) IsSingle() bool { return t.single != nil }

// Vars returns every payload path referenced (deduplicated, in order), for validation against a schema.
func (t *Template) Vars() []string { return append([]string(nil), t.vars...) }

// Eval evaluates the template. A single {{expr}} returns the expression's typed value (float64, string,
// bool, []any, map[string]any or nil); a template without expressions returns the string unchanged; text
// mixed with expressions returns a string in which each value is stringified as by toString.
func (t *Template) Eval(env *Env) (any, error) {
	return t.eval(newEvaluator(env))
}

func (t *Template) eval(ev *evaluator) (any, error) {
	if t.single != nil {
		v, err := ev.eval(t.single)
		if err != nil {
			return nil, err
		}
		// Copy so that results merged into the payload never alias it (`{"author":"{{$}}"}` would otherwise
		// make the payload contain itself).
		if v, err = deepCopy(v); err != nil {
			return nil, &EvalError{Pos: t.single.pos, Err: err}
		}
		return v, nil
	}
	if len(t.parts) == 0 {
		return t.src, nil
	}
	var b strings.Builder
	for _, pt := range t.parts {
		if pt.expr == nil {
			b.WriteString(pt.text)
		} else {
			v, err := ev.eval(pt.expr)
			if err != nil {
				return nil, err
			}
			s, err := toText(v)
			if err != nil {
				return nil, &EvalError{Pos: pt.expr.pos, Err: err}
			}
			b.WriteString(s)
		}
		if b.Len() > MaxStringLen {
			return nil, &EvalError{Pos: 0, Err: ErrTooLarge}
		}
	}
	return b.String(), nil
}

// EvalBool evaluates a condition (booleanExpressions, trigger filters, skipActionExpression). Like a
// comparison, an absent value is false; "true"/"false" text is accepted; anything else is an error.
func (t *Template) EvalBool(env *Env) (bool, error) {
	v, err := t.Eval(env)
	if err != nil {
		return false, err
	}
	b, err := toBool(v)
	if err != nil {
		return false, &EvalError{Err: fmt.Errorf("condition: %w", err)}
	}
	return b, nil
}

// EvalNumber evaluates a numeric field ("{{3}}", a bare "3", or one formula), for delay offsets and rate
// limits. ok is false when the value is absent (nil or empty), which callers treat as "not set".
func (t *Template) EvalNumber(env *Env) (f float64, ok bool, err error) {
	v, err := t.Eval(env)
	if err != nil {
		return 0, false, err
	}
	if f, ok, err = toNum(v); err != nil {
		return 0, false, &EvalError{Err: fmt.Errorf("numeric field: %w", err)}
	}
	return f, ok, nil
}
