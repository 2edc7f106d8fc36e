package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits that keep hostile input bounded. Wix caps expression fields at 2,500 characters; the input limit
// is far above that so that large text mappings still parse, while depth and steps stop pathological nesting.
const (
	// MaxInputLen is the longest template or expression accepted, in bytes.
	MaxInputLen = 64 << 10
	// MaxDepth is the deepest nesting of calls and array literals accepted.
	MaxDepth = 64
	// DefaultMaxSteps is the evaluation step budget used when Env.MaxSteps is 0.
	DefaultMaxSteps = 100_000
	// MaxStringLen bounds every string an evaluation builds (concat, templates, toString).
	MaxStringLen = 1 << 20
)

// ParseError carries the byte offset of the problem in the original input.
type ParseError struct {
	Pos int
	Msg string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("expr: parse error at offset %d: %s", e.Pos, e.Msg)
}

type nodeKind uint8

const (
	nLit   nodeKind = iota // val holds the decoded literal
	nArray                 // args are the elements
	nPath                  // var("a.b") or the legacy bare path a.b; path holds the segments
	nRoot                  // $ (whole payload), optionally followed by .path
	nElem                  // $_ (current array element), optionally followed by .path
	nCall                  // fn applied to args
)

// node is one parsed expression. Nodes are immutable after parsing, which is what makes a parsed Template
// safe to evaluate from many goroutines.
type node struct {
	kind nodeKind
	pos  int // byte offset in the original input, for error messages
	val  any
	path []string
	fn   *funcDef
	args []*node
}

type parser struct {
	src   string
	pos   int
	depth int
	pred  int // > 0 while parsing an argument in which $_ is bound
	vars  []string
	seen  map[string]bool
}

func (p *parser) errf(pos int, format string, a ...any) error {
	return &ParseError{Pos: pos, Msg: fmt.Sprintf(format, a...)}
}

// found describes what is at pos, for "expected X, found Y" messages.
func (p *parser) found() string {
	if p.pos >= len(p.src) {
		return "end of input"
	}
	if strings.HasPrefix(p.src[p.pos:], "}}") {
		return `"}}"`
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *parser) addVar(path string) {
	if path == "" || p.seen[path] {
		return
	}
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[path] = true
	p.vars = append(p.vars, path)
}

func (p *parser) skipWS() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) || c == '-' }

// expr parses one expression starting at p.pos (leading whitespace skipped).
func (p *parser) expr() (*node, error) {
	p.skipWS()
	if p.pos >= len(p.src) || strings.HasPrefix(p.src[p.pos:], "}}") {
		return nil, p.errf(p.pos, "expected an expression, found %s", p.found())
	}
	c := p.src[p.pos]
	switch {
	case c == '"' || c == '\'':
		start := p.pos
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: nLit, pos: start, val: s}, nil
	case c == '[':
		return p.array()
	case c == '-' || c == '.' || isDigit(c):
		return p.number()
	case c == '$':
		return p.dollar()
	case isIdentStart(c):
		return p.ident()
	}
	return nil, p.errf(p.pos, "expected an expression, found %s", p.found())
}

// str parses a quoted literal. Backslash escapes only the quote and itself (legacy hand-written JSON); the
// builder never needs them because it URI-encodes literals, so the text is then URI-decoded.
func (p *parser) str() (string, error) {
	start := p.pos
	q := p.src[p.pos]
	p.pos++
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return uriDecode(b.String()), nil
		case c == '\\' && p.pos+1 < len(p.src) && (p.src[p.pos+1] == q || p.src[p.pos+1] == '\\'):
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", p.errf(start, "unterminated string literal")
}

// uriDecode undoes encodeURIComponent. Unlike url.PathUnescape it never fails: a '%' that does not start a
// valid escape is kept as typed (legacy literals such as "100% sure" were never encoded), and if decoding
// would produce invalid UTF-8 the raw text is kept whole.
func uriDecode(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	out := b.String()
	if !utf8.ValidString(out) && utf8.ValidString(s) {
		return s
	}
	return out
}

func isHex(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func unhex(c byte) byte {
	if isDigit(c) {
		return c - '0'
	}
	return (c | 0x20) - 'a' + 10
}

// number accepts more than the builder emits (0.5, .5, 05, 1e3): saved legacy values must still run.
func (p *parser) number() (*node, error) {
	start := p.pos
	i := p.pos
	if p.src[i] == '-' {
		i++
	}
	digits := 0
	for i < len(p.src) && isDigit(p.src[i]) {
		i++
		digits++
	}
	if i < len(p.src) && p.src[i] == '.' {
		i++
		for i < len(p.src) && isDigit(p.src[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return nil, p.errf(start, "invalid number")
	}
	if i < len(p.src) && (p.src[i] == 'e' || p.src[i] == 'E') {
		j := i + 1
		if j < len(p.src) && (p.src[j] == '+' || p.src[j] == '-') {
			j++
		}
		if j < len(p.src) && isDigit(p.src[j]) {
			for j < len(p.src) && isDigit(p.src[j]) {
				j++
			}
			i = j
		}
	}
	f, err := strconv.ParseFloat(p.src[start:i], 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, p.errf(start, "number out of range: %s", p.src[start:i])
	}
	p.pos = i
	return &node{kind: nLit, pos: start, val: f}, nil
}

func (p *parser) array() (*node, error) {
	start := p.pos
	if err := p.enter(start); err != nil {
		return nil, err
	}
	defer p.leave()
	p.pos++ // '['
	n := &node{kind: nArray, pos: start}
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return &node{kind: nLit, pos: start, val: []any{}}, nil
	}
	for {
		el, err := p.expr()
		if err != nil {
			return nil, err
		}
		n.args = append(n.args, el)
		p.skipWS()
		if p.pos >= len(p.src) {
			return nil, p.errf(start, "unterminated array literal")
		}
		switch p.src[p.pos] {
		case ',', ';':
			p.pos++
			continue
		case ']':
			p.pos++
		default:
			return nil, p.errf(p.pos, "expected ',' or ']' in array, found %s", p.found())
		}
		break
	}
	// An array of literals is folded to a literal: trigger filters are mostly that, and it saves an
	// allocation per evaluation. Evaluation copies literal arrays before handing them out.
	vals := make([]any, len(n.args))
	for i, a := range n.args {
		if a.kind != nLit {
			return n, nil
		}
		vals[i] = a.val
	}
	return &node{kind: nLit, pos: start, val: vals}, nil
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errf(pos, "nesting deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) segments() ([]string, error) {
	var segs []string
	for {
		start := p.pos
		for p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
			p.pos++
		}
		if p.pos == start {
			return nil, p.errf(p.pos, "expected a path segment, found %s", p.found())
		}
		segs = append(segs, p.src[start:p.pos])
		if p.pos < len(p.src) && p.src[p.pos] == '.' {
			p.pos++
			continue
		}
		return segs, nil
	}
}

func (p *parser) dollar() (*node, error) {
	start := p.pos
	p.pos++
	n := &node{kind: nRoot, pos: start}
	if p.pos < len(p.src) && p.src[p.pos] == '_' {
		p.pos++
		n.kind = nElem
		if p.pred == 0 {
			return nil, p.errf(start, "$_ is only defined inside arraySome, arrayEvery or arrayMap")
		}
	}
	if p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
		return nil, p.errf(start, "unknown variable %q", "$"+p.src[p.pos:p.pos+1]+"…")
	}
	if p.pos < len(p.src) && p.src[p.pos] == '.' {
		p.pos++
		segs, err := p.segments()
		if err != nil {
			return nil, err
		}
		n.path = segs
		if n.kind == nRoot {
			p.addVar(strings.Join(segs, "."))
		}
	}
	return n, nil
}

func (p *parser) ident() (*node, error) {
	start := p.pos
	for p.pos < len(p.src) && isIdentChar(p.src[p.pos]) {
		p.pos++
	}
	name := p.src[start:p.pos]
	save := p.pos
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == '(' {
		return p.call(name, start)
	}
	p.pos = save
	if p.pos >= len(p.src) || p.src[p.pos] != '.' {
		switch name {
		case "true":
			return &node{kind: nLit, pos: start, val: true}, nil
		case "false":
			return &node{kind: nLit, pos: start, val: false}, nil
		case "null":
			return &node{kind: nLit, pos: start, val: nil}, nil
		}
	}
	// A legacy bare path (v1 automations): contact.name.first.
	p.pos = start
	segs, err := p.segments()
	if err != nil {
		return nil, err
	}
	p.addVar(strings.Join(segs, "."))
	return &node{kind: nPath, pos: start, path: segs}, nil
}

func (p *parser) call(name string, start int) (*node, error) {
	def := lookupFunc(name)
	if def == nil {
		return nil, p.errf(start, "unknown function %q", name)
	}
	if err := p.enter(start); err != nil {
		return nil, err
	}
	defer p.leave()
	p.pos++ // '('
	var args []*node
	p.skipWS()
	if p.pos < len(p.src) && p.src[p.pos] == ')' {
		p.pos++
	} else {
		for {
			bound := def.predArg == len(args)+1
			if bound {
				p.pred++
			}
			a, err := p.expr()
			if bound {
				p.pred--
			}
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			p.skipWS()
			if p.pos >= len(p.src) {
				return nil, p.errf(start, "unterminated call to %s: expected ')'", def.name)
			}
			c := p.src[p.pos]
			if c == ';' || c == ',' {
				p.pos++
				continue
			}
			if c == ')' {
				p.pos++
				break
			}
			return nil, p.errf(p.pos, "expected ';' or ')' in call to %s, found %s", def.name, p.found())
		}
	}
	if len(args) < def.min || (def.max >= 0 && len(args) > def.max) {
		return nil, p.errf(start, "%s takes %s, got %d", def.name, def.arity(), len(args))
	}
	if def.name == "var" {
		return p.varNode(start, args[0])
	}
	return &node{kind: nCall, pos: start, fn: def, args: args}, nil
}

// varNode resolves var(…) at parse time so that Vars() is static and evaluation does not re-split paths.
func (p *parser) varNode(start int, arg *node) (*node, error) {
	switch {
	case arg.kind == nPath: // var(contact.email), seen in hand-written legacy values
		return &node{kind: nPath, pos: start, path: arg.path}, nil
	case arg.kind == nLit:
		if s, ok := arg.val.(string); ok {
			p.addVar(s)
			var segs []string
			if s != "" {
				segs = strings.Split(s, ".")
			}
			return &node{kind: nPath, pos: start, path: segs}, nil
		}
	}
	return nil, p.errf(arg.pos, "var takes one string literal path")
}

func checkLen(s string) error {
	if len(s) > MaxInputLen {
		return &ParseError{Pos: MaxInputLen, Msg: fmt.Sprintf("input longer than %d bytes", MaxInputLen)}
	}
	return nil
}

// Expr is one parsed expression without braces, e.g. `numberGt(var("a");5)`.
type Expr struct {
	src  string
	root *node
	vars []string
}

// ParseExpr parses one expression without braces. Surrounding whitespace is allowed.
func ParseExpr(s string) (*Expr, error) {
	if err := checkLen(s); err != nil {
		return nil, err
	}
	p := &parser{src: s}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos < len(s) {
		return nil, p.errf(p.pos, "unexpected %s after expression", p.found())
	}
	return &Expr{src: s, root: n, vars: p.vars}, nil
}

// String returns the source text.
func (e *Expr) String() string { return e.src }

// Vars returns every payload path the expression reads (var(), bare paths, $.path), deduplicated, in order.
func (e *Expr) Vars() []string { return append([]string(nil), e.vars...) }

// Eval evaluates the expression against env and returns a JSON-shaped Go value.
func (e *Expr) Eval(env *Env) (any, error) {
	ev := newEvaluator(env)
	v, err := ev.eval(e.root)
	if err != nil {
		return nil, err
	}
	if v, err = deepCopy(v); err != nil {
		return nil, &EvalError{Pos: e.root.pos, Err: err}
	}
	return v, nil
}
