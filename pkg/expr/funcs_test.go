package expr

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMathFunctions(t *testing.T) {
	t.Parallel()
	runTemplateCases(t, []evalCase{
		{src: "{{sum(1;2;3)}}", want: 6.0},
		{src: "{{sum(price;qty)}}", want: 45.0},
		{src: "{{sum(nums;1)}}", want: 17.0},
		{src: "{{sum(missing;1)}}", want: nil},
		{src: `{{sum("a";1)}}`, err: `sum at offset 2: arg 1: expected a number, got string "a"`},
		{src: `{{sum(1;flag)}}`, err: "arg 2: expected a number, got boolean"},
		{src: "{{multiply(2;3;4)}}", want: 24.0},
		{src: "{{multiply(1e300;1e300)}}", err: "multiply at offset 2: numeric overflow"},
		{src: "{{subtract(10;4)}}", want: 6.0},
		{src: "{{subtract(0.3;0.1)}}", want: 0.19999999999999998},
		{src: "{{divide(10;4)}}", want: 2.5},
		{src: "{{divide(10;0)}}", err: "divide at offset 2: division by zero"},
		{src: "{{divide(missing;0)}}", want: nil},
		{src: "{{mod(10;3)}}", want: 1.0},
		{src: "{{mod(-7;3)}}", want: -1.0},
		{src: "{{mod(1;0)}}", err: "modulo by zero"},
		{src: "{{average(1;2;3;4)}}", want: 2.5},
		{src: "{{average(nums)}}", want: 4.0},
		{src: "{{average([])}}", want: nil},
		{src: "{{min(3;1;2)}}", want: 1.0},
		{src: "{{max(nums)}}", want: 10.0},
		{src: "{{max(-1)}}", want: -1.0},
		{src: "{{median(3;1;2)}}", want: 2.0},
		{src: "{{median(nums)}}", want: 2.5},
		{src: "{{round(1.005;2)}}", want: 1.01},
		{src: "{{round(9.995;2)}}", want: 10.0},
		{src: "{{round(123.456;1)}}", want: 123.5},
		{src: "{{round(123.44;1)}}", want: 123.4},
		{src: "{{round(2.5)}}", want: 3.0},
		{src: "{{round(-2.5;0)}}", want: -3.0},
		{src: "{{round(0.4)}}", want: 0.0},
		{src: "{{round(-0.4)}}", want: 0.0},
		{src: "{{round(1234.5678;-2)}}", want: 1200.0},
		{src: "{{round(7;3)}}", want: 7.0},
		{src: "{{round(missing;2)}}", want: nil},
		{src: `{{round(1;"x")}}`, err: "round at offset 2: arg 2"},
		{src: "{{abs(-3)}}", want: 3.0},
		{src: "{{abs(qty)}}", want: 3.0},
	})
}

func TestComparisonFunctions(t *testing.T) {
	t.Parallel()
	runTemplateCases(t, []evalCase{
		{src: "{{eq(1;1)}}", want: true},
		{src: `{{eq(1;"1")}}`, want: true},
		{src: `{{eq("paid";"paid")}}`, want: true},
		{src: `{{eq("paid";"due")}}`, want: false},
		{src: "{{eq(missing;1)}}", want: false},
		{src: "{{eq(missing;missing)}}", want: false},
		{src: "{{gt(price;10)}}", want: true},
		{src: "{{gt(price;42)}}", want: false},
		{src: "{{gte(42;price)}}", want: true},
		{src: "{{lt(1;2)}}", want: true},
		{src: "{{lte(3;2)}}", want: false},
		{src: "{{lte(2;2)}}", want: true},
		{src: "{{numberEq(price;42)}}", want: true},
		{src: `{{numberGt(var("price");5)}}`, want: true},
		{src: `{{numberGt(var("order_count");5)}}`, want: false},
		{src: "{{numberLt(price;5)}}", want: false},
		{src: "{{gt(tags;1)}}", err: "gt at offset 2: arg 1: expected a number, got array"},
		{src: "{{numberContains([1,2];var(\"price\"))}}", want: false},
		{src: "{{numberContains([42];price)}}", want: true},
		{src: `{{numberContains([1,2];"2")}}`, want: true},
		{src: `{{numberContains([1,2];[5;1])}}`, want: true},
		{src: "{{numberContains([1,2];missing)}}", want: false},
		{src: "{{boolEq(flag;true)}}", want: true},
		{src: `{{boolEq(flag;"false")}}`, want: false},
		{src: "{{boolEq(missing;false)}}", want: false},
		{src: "{{boolEq(1;true)}}", err: "boolEq at offset 2: arg 1: expected a boolean, got number"},
	})
}

func TestArrayFunctions(t *testing.T) {
	t.Parallel()
	runTemplateCases(t, []evalCase{
		{src: "{{arraySize(tags)}}", want: 2.0},
		{src: "{{arraySize(missing)}}", want: 0.0},
		{src: `{{arraySize("x")}}`, want: 1.0},
		{src: "{{arraySum(nums)}}", want: 16.0},
		{src: "{{arraySum([])}}", want: 0.0},
		{src: `{{arraySum(["1";2;null])}}`, want: 3.0},
		{src: `{{arraySum([1;"x"])}}`, err: `arraySum at offset 2: arg 1: element 1: expected a number, got string "x"`},
		{src: "{{arrayMultiply(nums)}}", want: 60.0},
		{src: "{{arrayMultiply([])}}", want: 1.0},
		{src: "{{arrayAverage(nums)}}", want: 4.0},
		{src: "{{arrayAverage([])}}", want: nil},
		{src: "{{arrayMin(nums)}}", want: 1.0},
		{src: "{{arrayMin(missing)}}", want: nil},
		{src: "{{arrayMax(nums)}}", want: 10.0},
		{src: "{{arrayMedian(nums)}}", want: 2.5},
		{src: "{{arrayMedian([5;1;3])}}", want: 3.0},
		{src: `{{arrayMap(forms;"data.id")}}`, want: []any{"f1", "f3"}},
		{src: `{{arrayMap(var("items");"sku")}}`, want: []any{"a", "b"}},
		{src: `{{arrayMap(items;multiply($_.qty;2))}}`, want: []any{4.0, 10.0}},
		{src: `{{arrayMap(tags;"")}}`, want: []any{"vip", "new"}},
		{src: `{{arrayMap(tags;upper($_))}}`, want: []any{"VIP", "NEW"}},
		{src: `{{arrayMap(missing;"x")}}`, want: []any{}},
		{src: `{{arraySome(tags;stringEq($_;"VIP"))}}`, want: true},
		{src: `{{arraySome(tags;stringEq($_;"old"))}}`, want: false},
		{src: `{{arraySome(var("tags");contains(["a","new"];$_))}}`, want: true},
		{src: "{{arrayEvery(nums;gt($_;0))}}", want: true},
		{src: "{{arrayEvery(nums;gt($_;1))}}", want: false},
		{src: "{{arraySome([];true)}}", want: false},
		{src: "{{arrayEvery([];false)}}", want: true},
		{src: "{{arrayEvery(missing;false)}}", want: true},
		{src: "{{arraySome(nums;$_)}}", err: "arraySome at offset 2: arg 2: expected a boolean, got number"},
		{src: `{{arraySome(items;arraySome(tags;stringEq($_;"vip")))}}`, want: true},
		{src: `{{arraySome(items;eq($_.qty;5))}}`, want: true},
		{src: `{{arrayIncludesAnyOf(tags;["x","new"])}}`, want: true},
		{src: `{{arrayIncludesAnyOf(tags;["x"])}}`, want: false},
		{src: `{{arrayIncludesAllOf(tags;["vip","new"])}}`, want: true},
		{src: `{{arrayIncludesAllOf(tags;["vip","x"])}}`, want: false},
		{src: `{{arrayIncludesOnly(tags;["vip","new","x"])}}`, want: true},
		{src: `{{arrayIncludesOnly(tags;["vip"])}}`, want: false},
		{src: `{{arrayIncludesOnly([];["a"])}}`, want: true},
		{src: `{{contains(["guid1","guid2"];var("formId"))}}`, want: true},
		{src: `{{contains(["guid1"];formId)}}`, want: false},
		{src: `{{contains(formIds;["x","f2"])}}`, want: true},
		{src: `{{contains(formIds;["x","y"])}}`, want: false},
		{src: `{{contains(["a"];missing)}}`, want: false},
		{src: `{{contains(missing;"a")}}`, want: false},
		{src: `{{contains([1,2];"2")}}`, want: true},
		{src: `{{contains(["2"];2)}}`, want: true},
		{src: `{{contains(["true"];flag)}}`, want: true},
		{src: `{{contains([[1,2]];[[1,2]])}}`, want: true},
		{src: `{{contains(items;[{"sku":"a"}])}}`, err: "expected an expression"}, // no object literals
		// The two trigger-filter shapes of §5.2.
		{src: `{{arraySome(["f2","f9"];contains(var("formIds");$_))}}`, want: true},
		{src: `{{arraySome(["a"];contains(arrayMap(var("forms");"data.id");$_))}}`, want: false},
		{src: `{{arraySome(["f3"];contains(arrayMap(var("forms");"data.id");$_))}}`, want: true},
	})
}

func TestTextFunctions(t *testing.T) {
	t.Parallel()
	runTemplateCases(t, []evalCase{
		{src: `{{substring("hello";1;3)}}`, want: "ell"},
		{src: `{{substring("hello";-3)}}`, want: "llo"},
		{src: `{{substring("h%C3%A9llo";1;2)}}`, want: "él"},
		{src: `{{substring("abc";5;2)}}`, want: ""},
		{src: `{{substring("abc";1;-1)}}`, want: ""},
		{src: `{{substring("abc";-10;2)}}`, want: "ab"},
		{src: `{{substring(missing;0;1)}}`, want: nil},
		{src: `{{substring(price;0;1)}}`, want: "4"},
		{src: `{{lower("ABC")}}`, want: "abc"},
		{src: `{{upper(contact.name.first)}}`, want: "ADA"},
		{src: `{{lower(missing)}}`, want: nil},
		{src: `{{lower(tags)}}`, err: "lower at offset 2: arg 1: expected a string, got array"},
		{src: `{{stringLen("h%C3%A9llo")}}`, want: 5.0},
		{src: `{{stringLen(missing)}}`, want: 0.0},
		{src: `{{stringEq("Ada";"ada")}}`, want: true},
		{src: `{{stringEq(contact.name.first;"Bob")}}`, want: false},
		{src: `{{stringEq(missing;"")}}`, want: true},
		{src: `{{stringHasSubString(contact.email;"B.COM")}}`, want: true},
		{src: `{{stringHasSubString(contact.email;"x")}}`, want: false},
		{src: `{{startsWith("hello";"he")}}`, want: true},
		{src: `{{startsWith("hello";"He")}}`, want: false},
		{src: `{{endsWith("hello";"lo")}}`, want: true},
		{src: `{{isEmptyString("")}}`, want: true},
		{src: `{{isEmptyString(empty)}}`, want: true},
		{src: `{{isEmptyString(missing)}}`, want: true},
		{src: `{{isEmptyString("x")}}`, want: false},
		{src: `{{isEmptyString(0)}}`, want: false},
		{src: `{{stringContains(["a","b"];"b")}}`, want: true},
		{src: `{{stringContains(["a","b"];"B")}}`, want: false},
		{src: `{{stringContains(["a","b"];["x","a"])}}`, want: true},
		{src: `{{stringContains(["1"];1)}}`, want: true},
		{src: `{{stringContains(["a"];missing)}}`, want: false},
	})
}

func TestDateFunctions(t *testing.T) {
	t.Parallel()
	runTemplateCases(t, []evalCase{
		{src: "{{year(when)}}", want: 2024.0},
		{src: "{{month(when)}}", want: 3.0},
		{src: "{{day(when)}}", want: 10.0},
		{src: "{{hour(when)}}", want: 22.0},
		{src: "{{minute(when)}}", want: 30.0},
		{src: "{{hour(whenMs)}}", want: 22.0},
		{src: `{{hour("1710109800000")}}`, want: 22.0},
		{src: `{{hour("2024-03-11T00:30:00+02:00")}}`, want: 22.0},
		{src: "{{weekDay(when)}}", want: 7.0},
		{src: `{{weekDay("2024-03-11")}}`, want: 1.0},
		{src: `{{day("2024-03-10T23:59:59")}}`, want: 10.0},
		{src: "{{year(missing)}}", want: nil},
		{src: `{{year("soon")}}`, err: `year at offset 2: arg 1: expected a date, got string "soon"`},
		{src: `{{year(1e300)}}`, err: "date out of range"},
		{src: `{{dateEq(when;"2024-03-10T01:00:00Z")}}`, want: true},
		{src: `{{dateEq(when;"2024-03-11T00:00:00+02:00")}}`, want: true},
		{src: `{{dateEq(when;"2024-03-11")}}`, want: false},
		{src: `{{dateBefore("2024-03-09";when)}}`, want: true},
		{src: `{{dateAfter(when;"2024-03-10")}}`, want: false},
		{src: `{{dateAfter(when;missing)}}`, want: false},
		{src: "{{dateTimeEq(when;whenMs)}}", want: true},
		{src: `{{dateTimeBefore("2024-03-10T22:29:59Z";when)}}`, want: true},
		{src: `{{dateTimeAfter("2024-03-10T22:29:59Z";when)}}`, want: false},
		{src: `{{dateTimeEq(missing;when)}}`, want: false},
		{src: `{{addToDate("2024-01-31T10:00:00Z";0;1;0)}}`, want: "2024-02-29T10:00:00.000Z"},
		{src: `{{addToDate(when;1;0;1)}}`, want: "2025-03-11T22:30:00.000Z"},
		{src: `{{addToDate(when;0;-3;0)}}`, want: "2023-12-10T22:30:00.000Z"},
		{src: `{{subtractFromDate("2024-03-31T00:00:00Z";0;1;0)}}`, want: "2024-02-29T00:00:00.000Z"},
		{src: `{{subtractFromDate(var("when");0;0;1)}}`, want: "2024-03-09T22:30:00.000Z"},
		{src: `{{subtractFromDate("2024-02-29";1;0;0)}}`, want: "2023-02-28T00:00:00.000Z"},
		{src: `{{addToDate(whenMs;0;0;0)}}`, want: "2024-03-10T22:30:00.000Z"},
		{src: `{{addToDate(when;missing;missing;2)}}`, want: "2024-03-12T22:30:00.000Z"},
		{src: `{{addToDate(missing;1;1;1)}}`, want: nil},
		{src: `{{addToDate("nope";1;0;0)}}`, err: "addToDate at offset 2: arg 1: expected a date"},
		{src: `{{addToDate("9999-12-31";1;0;0)}}`, err: "date out of range"},
		{src: `{{addToDate(when;1e9;0;0)}}`, err: "arg 2: out of range"},
		{src: "{{now()}}", want: "2024-05-06T07:08:09.123Z"},
		{src: "{{year(now())}}", want: 2024.0},
		{src: "{{dateTimeBefore(when;now())}}", want: true},
	})
}

func TestLogicFunctions(t *testing.T) {
	t.Parallel()
	runTemplateCases(t, []evalCase{
		{src: `{{if(flag;"y";"n")}}`, want: "y"},
		{src: `{{if(missing;"y";"n")}}`, want: "n"},
		{src: `{{if(gt(price;100);"big";"small")}}`, want: "small"},
		{src: "{{if(true;1)}}", want: 1.0},
		{src: "{{if(false;1)}}", want: nil},
		{src: "{{if(true;1;divide(1;0))}}", want: 1.0},
		{src: `{{if("maybe";1;2)}}`, err: "if at offset 2: arg 1: expected a boolean"},
		{src: "{{and(true;false)}}", want: false},
		{src: "{{and(true;true;flag)}}", want: true},
		{src: "{{and(false;divide(1;0))}}", want: false},
		{src: "{{or(false;true)}}", want: true},
		{src: `{{or(true;toNumber("x"))}}`, want: true},
		{src: "{{or(false;missing)}}", want: false},
		{src: `{{and(true;"x")}}`, err: "and at offset 2: arg 2: expected a boolean"},
		{src: "{{not(true)}}", want: false},
		{src: "{{not(missing)}}", want: true},
		{src: `{{not(isEmpty(var("contact.email")))}}`, want: true},
		{src: "{{isEmpty(missing)}}", want: true},
		{src: "{{isEmpty(nothing)}}", want: true},
		{src: "{{isEmpty(empty)}}", want: true},
		{src: "{{isEmpty([])}}", want: true},
		{src: "{{isEmpty(contact)}}", want: false},
		{src: "{{isEmpty(tags)}}", want: false},
		{src: "{{isEmpty(0)}}", want: false},
		{src: "{{isEmpty(false)}}", want: false},
	})
}

func TestEvalErrorContext(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	cases := []struct {
		src      string
		fn       string
		pos, arg int
	}{
		{`{{concat("a";divide(1;0))}}`, "divide", 13, 0},
		{`{{multiply(price;"x")}}`, "multiply", 2, 2},
		{`x {{ and(true; lower(tags)) }}`, "lower", 15, 1},
	}
	for _, c := range cases {
		tm, err := ParseTemplate(c.src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tm.Eval(env)
		var ee *EvalError
		if !errors.As(err, &ee) || ee.Func != c.fn || ee.Pos != c.pos || ee.Arg != c.arg {
			t.Errorf("%s: got %#v (%v)", c.src, ee, err)
		}
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	nested := func(open, close string, n int) string {
		return "{{" + strings.Repeat(open, n) + "1" + strings.Repeat(close, n) + "}}"
	}
	for _, c := range []struct {
		src string
		ok  bool
	}{
		{nested("abs(", ")", MaxDepth), true},
		{nested("abs(", ")", MaxDepth+1), false},
		{nested("[", "]", MaxDepth), true},
		{nested("[", "]", MaxDepth+1), false},
		{nested("not(abs(", "))", 3000), false},
	} {
		_, err := ParseTemplate(c.src)
		var pe *ParseError
		if c.ok != (err == nil) || (!c.ok && (!errors.As(err, &pe) || !strings.Contains(pe.Msg, "nesting"))) {
			t.Errorf("depth %d: %v", len(c.src), err)
		}
	}

	var pe *ParseError
	if _, err := ParseTemplate(strings.Repeat("a", MaxInputLen+1)); !errors.As(err, &pe) {
		t.Errorf("long input: %v", err)
	}
	if _, err := ParseExpr(strings.Repeat(" ", MaxInputLen+1)); !errors.As(err, &pe) {
		t.Errorf("long expression: %v", err)
	}

	// A small budget stops a small expression.
	tm, err := ParseTemplate("{{concat(1;2;3;4;5;6)}}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Eval(&Env{MaxSteps: 5}); !errors.Is(err, ErrStepBudget) {
		t.Errorf("small budget: %v", err)
	}
	if _, err := tm.Eval(&Env{MaxSteps: 7}); err != nil {
		t.Errorf("exact budget: %v", err)
	}

	// Nested quantifiers over a large array would take 10^12 steps; the default budget stops them fast.
	big := make([]any, 10000)
	for i := range big {
		big[i] = float64(i)
	}
	tm, err = ParseTemplate(`{{arraySome(var("a");arraySome(var("a");arraySome(var("a");lt($_;0))))}}`)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := tm.Eval(&Env{Payload: map[string]any{"a": big}}); !errors.Is(err, ErrStepBudget) {
		t.Errorf("nested quantifiers: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("budget took %v", d)
	}

	// Strings built by evaluation are bounded.
	huge := strings.Repeat("x", MaxStringLen/2+1)
	for _, src := range []string{`{{concat(var("h");var("h"))}}`, `{{h}}{{h}}`} {
		tm, err := ParseTemplate(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tm.Eval(&Env{Payload: map[string]any{"h": huge}}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v", src, err)
		}
	}
	_ = env
}

// One parsed template is evaluated concurrently by many activations.
func TestConcurrentEval(t *testing.T) {
	t.Parallel()
	tm, err := ParseTemplate(`Hi {{contact.name.first}} {{arrayMap(items;multiply($_.qty;2))}} {{now()}}`)
	if err != nil {
		t.Fatal(err)
	}
	env := testEnv(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				v, err := tm.Eval(env)
				if err != nil || v != "Hi Ada [4,10] 2024-05-06T07:08:09.123Z" {
					t.Errorf("got %v, %v", v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
