package expr

import (
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
)

// numArgs collects the numbers of a variadic math call, flattening array arguments one level so that
// sum(var("prices");shipping) works. present is false if any value is absent: like JSONata arithmetic
// on undefined, the result is then nil rather than an error or a silent zero.
func numArgs(a []any, flatten bool) (xs []float64, present bool, err error) {
	present = true
	for i, v := range a {
		vals := []any{v}
		if arr, ok := v.([]any); ok && flatten {
			vals = arr
		}
		for _, e := range vals {
			f, ok, err := toNum(e)
			if err != nil {
				return nil, false, argErr(i+1, "%v", err)
			}
			if !ok {
				present = false
				continue
			}
			xs = append(xs, f)
		}
	}
	return xs, present, nil
}

func numFold(f func([]float64) float64) func(*evaluator, []any) (any, error) {
	return func(ev *evaluator, a []any) (any, error) {
		xs, ok, err := numArgs(a, true)
		if err != nil || !ok || len(xs) == 0 {
			return nil, err
		}
		if err := ev.charge(len(xs)); err != nil {
			return nil, err
		}
		return num(f(xs))
	}
}

// arrayFold applies f to the numbers of one array argument. Absent elements are skipped (a list of
// optional fields), an empty list sums to 0 and multiplies to 1, and has no average, minimum or median.
func arrayFold(f func([]float64) float64) func(*evaluator, []any) (any, error) {
	return func(ev *evaluator, a []any) (any, error) {
		list := asList(a[0])
		if err := ev.charge(len(list)); err != nil {
			return nil, err
		}
		xs, _, err := numArgs(list, false)
		if err != nil {
			var ee *EvalError
			if errors.As(err, &ee) {
				return nil, argErr(1, "element %d: %v", ee.Arg-1, ee.Err)
			}
			return nil, err
		}
		if len(xs) == 0 {
			r := f(nil)
			if math.IsNaN(r) {
				return nil, nil
			}
			return r, nil
		}
		return num(f(xs))
	}
}

func numBinary(f func(a, b float64) (float64, error)) func(*evaluator, []any) (any, error) {
	return func(_ *evaluator, a []any) (any, error) {
		xs, ok, err := numArgs(a, false)
		if err != nil || !ok {
			return nil, err
		}
		r, err := f(xs[0], xs[1])
		if err != nil {
			return nil, err
		}
		return num(r)
	}
}

func numUnary(f func(float64) float64) func(*evaluator, []any) (any, error) {
	return func(_ *evaluator, a []any) (any, error) {
		xs, ok, err := numArgs(a, false)
		if err != nil || !ok {
			return nil, err
		}
		return num(f(xs[0]))
	}
}

// numCmp compares two numbers; an absent operand makes the comparison false (JSONata: comparisons with
// undefined are false), so a condition on a missing field does not fail the action.
func numCmp(f func(a, b float64) bool) func(*evaluator, []any) (any, error) {
	return func(_ *evaluator, a []any) (any, error) {
		xs, ok, err := numArgs(a, false)
		if err != nil {
			return nil, err
		}
		return ok && f(xs[0], xs[1]), nil
	}
}

// fnEq is numeric equality, but two non-numeric values (legacy v1 eq(status;"paid")) compare by value
// rather than failing.
func fnEq(ev *evaluator, a []any) (any, error) {
	xs, ok, err := numArgs(a, false)
	if err == nil {
		return ok && xs[0] == xs[1], nil
	}
	if a[0] == nil || a[1] == nil {
		return false, nil
	}
	return ev.equal(a[0], a[1])
}

func product(xs []float64) float64 {
	p := 1.0
	for _, x := range xs {
		p *= x
	}
	return p
}

func average(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func minOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	m := xs[0]
	for _, x := range xs[1:] {
		m = math.Min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	m := xs[0]
	for _, x := range xs[1:] {
		m = math.Max(m, x)
	}
	return m
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// fnRound rounds half away from zero on the decimal representation people see, so round(1.005;2) is 1.01
// as in a spreadsheet, not 1 as binary floating point would give.
func fnRound(_ *evaluator, a []any) (any, error) {
	x, ok, err := toNum(a[0])
	if err != nil {
		return nil, argErr(1, "%v", err)
	}
	d := 0.0
	if len(a) > 1 {
		var dok bool
		d, dok, err = toNum(a[1])
		if err != nil {
			return nil, argErr(2, "%v", err)
		}
		if !dok {
			d = 0
		}
	}
	if !ok {
		return nil, nil
	}
	return num(roundDecimal(x, clampInt(math.Trunc(d), -308, 308)))
}

func roundDecimal(x float64, d int) float64 {
	if d < 0 {
		p := math.Pow(10, float64(-d))
		return math.Round(x/p) * p
	}
	s := strconv.FormatFloat(math.Abs(x), 'f', -1, 64)
	ip, frac, _ := strings.Cut(s, ".")
	if len(frac) <= d {
		return x
	}
	digits := []byte(ip + frac[:d])
	if frac[d] >= '5' {
		i := len(digits) - 1
		for ; i >= 0 && digits[i] == '9'; i-- {
			digits[i] = '0'
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		} else {
			digits[i]++
		}
	}
	n := len(digits) - d
	r, err := strconv.ParseFloat(string(digits[:n])+"."+string(digits[n:])+"0", 64)
	if err != nil {
		return x
	}
	if x < 0 {
		r = -r
	}
	return r
}
