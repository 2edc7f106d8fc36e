package expr

import (
	"math"
	"unicode/utf8"
)

func strMap(f func(string) string) func(*evaluator, []any) (any, error) {
	return func(_ *evaluator, a []any) (any, error) {
		s, ok, err := toStr(a[0])
		if err != nil {
			return nil, argErr(1, "%v", err)
		}
		if !ok {
			return nil, nil
		}
		return f(s), nil
	}
}

// strPred compares two text arguments; an absent value compares as "" so that stringEq(var("x");"")
// holds for a missing field.
func strPred(f func(s, t string) bool) func(*evaluator, []any) (any, error) {
	return func(_ *evaluator, a []any) (any, error) {
		s, _, err := toStr(a[0])
		if err != nil {
			return nil, argErr(1, "%v", err)
		}
		t, _, err := toStr(a[1])
		if err != nil {
			return nil, argErr(2, "%v", err)
		}
		return f(s, t), nil
	}
}

func fnStringLen(_ *evaluator, a []any) (any, error) {
	s, _, err := toStr(a[0])
	if err != nil {
		return nil, argErr(1, "%v", err)
	}
	return float64(utf8.RuneCountInString(s)), nil
}

// fnSubstring counts in characters, not bytes; start is 0-based and negative counts from the end, and a
// missing length means "to the end" (JSONata's $substring, which Wix compiles to).
func fnSubstring(_ *evaluator, a []any) (any, error) {
	s, ok, err := toStr(a[0])
	if err != nil {
		return nil, argErr(1, "%v", err)
	}
	start, sok, err := toNum(a[1])
	if err != nil {
		return nil, argErr(2, "%v", err)
	}
	if !ok {
		return nil, nil
	}
	r := []rune(s)
	n := len(r)
	st := 0
	if sok {
		st = clampInt(math.Trunc(start), -n, n)
	}
	if st < 0 {
		st += n
	}
	end := n
	if len(a) > 2 {
		l, lok, err := toNum(a[2])
		if err != nil {
			return nil, argErr(3, "%v", err)
		}
		if lok {
			end = st + clampInt(math.Trunc(l), 0, n-st)
		}
	}
	return string(r[st:end]), nil
}

func clampInt(f float64, lo, hi int) int {
	if f < float64(lo) || math.IsNaN(f) {
		return lo
	}
	if f > float64(hi) {
		return hi
	}
	return int(f)
}

func fnIsEmptyString(_ *evaluator, a []any) (any, error) {
	switch x := a[0].(type) {
	case nil:
		return true, nil
	case string:
		return x == "", nil
	}
	return false, nil
}

// fnStringContains is the condition "field is one of": list first, then the value (or a list of values,
// any of which may match). Matching is exact; only stringEq and stringHasSubString ignore case.
func fnStringContains(_ *evaluator, a []any) (any, error) {
	for _, v := range asList(a[1]) {
		s, ok, err := toStr(v)
		if err != nil {
			return nil, argErr(2, "%v", err)
		}
		if !ok {
			continue
		}
		for _, e := range asList(a[0]) {
			if t, ok, err := toStr(e); err == nil && ok && t == s {
				return true, nil
			}
		}
	}
	return false, nil
}
