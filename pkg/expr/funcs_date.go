package expr

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

type timeT = time.Time

// maxEpochMs is the range of a JavaScript Date (±100,000,000 days), the widest a Wix payload can carry.
const maxEpochMs = 8.64e15

// dateLayouts are the accepted text forms, RFC 3339 first. Date-only and zone-less values are read as UTC
// (date fields store calendar dates; zone-less timestamps come from hand-written payloads).
var dateLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// toTime reads an RFC 3339 string or epoch milliseconds (a number or a numeric string). present is false
// for nil or "".
func toTime(v any) (t time.Time, present bool, err error) {
	if v == nil {
		return time.Time{}, false, nil
	}
	f, isNum := numeric(v)
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}, false, nil
		}
		for _, l := range dateLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), true, nil
			}
		}
		if f, err = strconv.ParseFloat(s, 64); err != nil {
			return time.Time{}, false, fmt.Errorf("expected a date, got string %s", quoteShort(s))
		}
		isNum = true
	}
	if !isNum {
		return time.Time{}, false, fmt.Errorf("expected a date, got %s", typeName(v))
	}
	if math.IsNaN(f) || math.Abs(f) > maxEpochMs {
		return time.Time{}, false, fmt.Errorf("date out of range: %s", fmtNum(f))
	}
	return time.UnixMilli(int64(f)).UTC(), true, nil
}

// fmtTime renders a result like JavaScript's Date#toISOString (what the Wix SDK sends): UTC, milliseconds.
func fmtTime(t time.Time) (any, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("date out of range: year %d", y)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00"), nil
}

// isoWeekday numbers days ISO 8601 style, Monday 1 … Sunday 7, as JSONata's [F1] picture does.
func isoWeekday(t time.Time) int {
	if d := int(t.Weekday()); d != 0 {
		return d
	}
	return 7
}

// datePart extracts a UTC calendar component; an absent date yields nil.
func datePart(f func(time.Time) int) func(*evaluator, []any) (any, error) {
	return func(_ *evaluator, a []any) (any, error) {
		t, ok, err := toTime(a[0])
		if err != nil {
			return nil, argErr(1, "%v", err)
		}
		if !ok {
			return nil, nil
		}
		return float64(f(t)), nil
	}
}

// dateCmp compares calendar dates in UTC (dateOnly) or instants; an absent operand is false.
func dateCmp(dateOnly bool, pred func(int) bool) func(*evaluator, []any) (any, error) {
	return func(_ *evaluator, a []any) (any, error) {
		var ts [2]time.Time
		present := true
		for i := range ts {
			t, ok, err := toTime(a[i])
			if err != nil {
				return nil, argErr(i+1, "%v", err)
			}
			present = present && ok
			ts[i] = t
		}
		if !present {
			return false, nil
		}
		if dateOnly {
			day := func(t time.Time) int { y, m, d := t.Date(); return y*10000 + int(m)*100 + d }
			return pred(cmpInt(day(ts[0]), day(ts[1]))), nil
		}
		return pred(ts[0].Compare(ts[1])), nil
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dateShift implements addToDate (sign 1) and subtractFromDate (sign -1) with (years; months; days).
// Years and months clamp to the end of the month, as spreadsheets do (Jan 31 + 1 month = Feb 28/29),
// rather than overflowing into the next month as Go's AddDate and JavaScript's setMonth would.
func dateShift(sign int) func(*evaluator, []any) (any, error) {
	return func(_ *evaluator, a []any) (any, error) {
		t, ok, err := toTime(a[0])
		if err != nil {
			return nil, argErr(1, "%v", err)
		}
		var n [3]int
		limits := [3]float64{20000, 240000, 7300000}
		for i := range n {
			f, _, err := toNum(a[i+1])
			if err != nil {
				return nil, argErr(i+2, "%v", err)
			}
			if math.Abs(f) > limits[i] {
				return nil, argErr(i+2, "out of range: %s", fmtNum(f))
			}
			n[i] = int(math.Trunc(f)) * sign
		}
		if !ok {
			return nil, nil
		}
		months := t.Year()*12 + int(t.Month()) - 1 + n[0]*12 + n[1]
		y := floorDiv(months, 12)
		m := time.Month(months - y*12 + 1)
		d := min(t.Day(), daysIn(y, m))
		r := time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC).AddDate(0, 0, n[2])
		return fmtTime(r)
	}
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
