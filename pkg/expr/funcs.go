package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// funcDef describes one built-in function. Exactly one of eager and lazy is set: eager functions get their
// arguments evaluated; lazy ones (if, and, or, arraySome, arrayEvery, arrayMap) evaluate what they need,
// which gives short-circuiting and per-element predicates.
//
// Functions must not modify their arguments: literal arrays are shared with the parse tree.
type funcDef struct {
	name     string
	min, max int // max < 0: variadic
	predArg  int // 1-based argument in which $_ is bound, 0 for none
	eager    func(ev *evaluator, args []any) (any, error)
	lazy     func(ev *evaluator, n *node) (any, error)
}

func (d *funcDef) arity() string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return strconv.Itoa(n) + " arguments"
	}
	switch {
	case d.max < 0:
		return "at least " + plural(d.min)
	case d.min == d.max && d.min == 0:
		return "no arguments"
	case d.min == d.max:
		return plural(d.min)
	}
	return fmt.Sprintf("%d to %d arguments", d.min, d.max)
}

// builtins is built once and never modified; names are matched case-insensitively because hand-written
// legacy values are not consistent about case.
var builtins = func() map[string]*funcDef {
	m := map[string]*funcDef{}
	add := func(d *funcDef) { m[strings.ToLower(d.name)] = d }
	eager := func(name string, min, max int, f func(*evaluator, []any) (any, error)) {
		add(&funcDef{name: name, min: min, max: max, eager: f})
	}
	lazy := func(name string, min, max, predArg int, f func(*evaluator, *node) (any, error)) {
		add(&funcDef{name: name, min: min, max: max, predArg: predArg, lazy: f})
	}

	// var is resolved by the parser into a path node; the entry exists for arity checking.
	eager("var", 1, 1, nil)

	// Format.
	eager("toString", 1, 1, fnToString)
	eager("toNumber", 1, 1, fnToNumber)

	// Text.
	eager("concat", 2, -1, fnConcat)
	eager("substring", 2, 3, fnSubstring)
	eager("lower", 1, 1, strMap(strings.ToLower))
	eager("upper", 1, 1, strMap(strings.ToUpper))
	eager("stringLen", 1, 1, fnStringLen)
	eager("stringEq", 2, 2, strPred(strings.EqualFold))
	eager("stringHasSubString", 2, 2, strPred(func(s, sub string) bool {
		return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
	}))
	eager("startsWith", 2, 2, strPred(strings.HasPrefix))
	eager("endsWith", 2, 2, strPred(strings.HasSuffix))
	eager("isEmptyString", 1, 1, fnIsEmptyString)
	eager("stringContains", 2, 2, fnStringContains)

	// Math.
	eager("sum", 2, -1, numFold(func(xs []float64) float64 {
		var s float64
		for _, x := range xs {
			s += x
		}
		return s
	}))
	eager("multiply", 2, -1, numFold(product))
	eager("subtract", 2, 2, numBinary(func(a, b float64) (float64, error) { return a - b, nil }))
	eager("divide", 2, 2, numBinary(func(a, b float64) (float64, error) {
		if b == 0 {
			return 0, fmt.Errorf("division by zero")
		}
		return a / b, nil
	}))
	eager("mod", 2, 2, numBinary(func(a, b float64) (float64, error) {
		if b == 0 {
			return 0, fmt.Errorf("modulo by zero")
		}
		return math.Mod(a, b), nil // sign of the dividend, like JavaScript's %
	}))
	eager("average", 1, -1, numFold(average))
	eager("min", 1, -1, numFold(minOf))
	eager("max", 1, -1, numFold(maxOf))
	eager("median", 1, -1, numFold(median))
	eager("round", 1, 2, fnRound)
	eager("abs", 1, 1, numUnary(math.Abs))

	// Numeric comparisons.
	eager("eq", 2, 2, fnEq)
	eager("numberEq", 2, 2, fnEq)
	eager("gt", 2, 2, numCmp(func(a, b float64) bool { return a > b }))
	eager("numberGt", 2, 2, numCmp(func(a, b float64) bool { return a > b }))
	eager("gte", 2, 2, numCmp(func(a, b float64) bool { return a >= b }))
	eager("lt", 2, 2, numCmp(func(a, b float64) bool { return a < b }))
	eager("numberLt", 2, 2, numCmp(func(a, b float64) bool { return a < b }))
	eager("lte", 2, 2, numCmp(func(a, b float64) bool { return a <= b }))
	eager("numberContains", 2, 2, fnNumberContains)
	eager("boolEq", 2, 2, fnBoolEq)

	// Arrays.
	eager("arraySize", 1, 1, func(_ *evaluator, a []any) (any, error) { return float64(len(asList(a[0]))), nil })
	eager("arraySum", 1, 1, arrayFold(func(xs []float64) float64 {
		var s float64
		for _, x := range xs {
			s += x
		}
		return s
	}))
	eager("arrayMultiply", 1, 1, arrayFold(product))
	eager("arrayAverage", 1, 1, arrayFold(average))
	eager("arrayMin", 1, 1, arrayFold(minOf))
	eager("arrayMax", 1, 1, arrayFold(maxOf))
	eager("arrayMedian", 1, 1, arrayFold(median))
	lazy("arrayMap", 2, 2, 2, fnArrayMap)
	lazy("arraySome", 2, 2, 2, fnArrayQuantifier(false))
	lazy("arrayEvery", 2, 2, 2, fnArrayQuantifier(true))
	eager("arrayIncludesAnyOf", 2, 2, fnIncludes(includesAny))
	eager("arrayIncludesAllOf", 2, 2, fnIncludes(includesAll))
	eager("arrayIncludesOnly", 2, 2, fnIncludes(includesOnly))
	eager("contains", 2, 2, fnContains)

	// Dates.
	eager("year", 1, 1, datePart(func(t timeT) int { return t.Year() }))
	eager("month", 1, 1, datePart(func(t timeT) int { return int(t.Month()) }))
	eager("day", 1, 1, datePart(func(t timeT) int { return t.Day() }))
	eager("hour", 1, 1, datePart(func(t timeT) int { return t.Hour() }))
	eager("minute", 1, 1, datePart(func(t timeT) int { return t.Minute() }))
	eager("weekDay", 1, 1, datePart(isoWeekday))
	eager("dateEq", 2, 2, dateCmp(true, func(c int) bool { return c == 0 }))
	eager("dateBefore", 2, 2, dateCmp(true, func(c int) bool { return c < 0 }))
	eager("dateAfter", 2, 2, dateCmp(true, func(c int) bool { return c > 0 }))
	eager("dateTimeEq", 2, 2, dateCmp(false, func(c int) bool { return c == 0 }))
	eager("dateTimeBefore", 2, 2, dateCmp(false, func(c int) bool { return c < 0 }))
	eager("dateTimeAfter", 2, 2, dateCmp(false, func(c int) bool { return c > 0 }))
	eager("addToDate", 4, 4, dateShift(1))
	eager("subtractFromDate", 4, 4, dateShift(-1))
	eager("now", 0, 0, func(ev *evaluator, _ []any) (any, error) { return fmtTime(ev.clock()) })

	// Logic.
	lazy("if", 2, 3, 0, fnIf)
	lazy("and", 2, -1, 0, fnAndOr(true))
	lazy("or", 2, -1, 0, fnAndOr(false))
	eager("not", 1, 1, fnNot)
	eager("isEmpty", 1, 1, fnIsEmpty)
	return m
}()

func lookupFunc(name string) *funcDef { return builtins[strings.ToLower(name)] }

// ---- Format ----

func fnToString(_ *evaluator, a []any) (any, error) {
	s, err := toText(a[0])
	if err != nil {
		return nil, argErr(1, "%v", err)
	}
	return s, nil
}

func fnToNumber(_ *evaluator, a []any) (any, error) {
	if b, ok := a[0].(bool); ok {
		if b {
			return 1.0, nil
		}
		return 0.0, nil
	}
	f, ok, err := toNum(a[0])
	if err != nil {
		return nil, argErr(1, "%v", err)
	}
	if !ok {
		return nil, nil
	}
	return f, nil
}

// ---- Text ----

func fnConcat(_ *evaluator, a []any) (any, error) {
	var b strings.Builder
	for i, v := range a {
		s, err := toText(v)
		if err != nil {
			return nil, argErr(i+1, "%v", err)
		}
		if b.Len()+len(s) > MaxStringLen {
			return nil, ErrTooLarge
		}
		b.WriteString(s)
	}
	return b.String(), nil
}
