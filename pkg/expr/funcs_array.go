package expr

// withElem evaluates n with $_ bound to e.
func (ev *evaluator) withElem(e any, n *node) (any, error) {
	ev.elems = append(ev.elems, e)
	v, err := ev.eval(n)
	ev.elems = ev.elems[:len(ev.elems)-1]
	return v, err
}

// fnArrayMap projects each element. A string-literal second argument is an item path
// (arrayMap(var("forms");"data.id"), the builder's form; "" maps to the element itself); any other
// expression is evaluated per element with $_ bound. Elements that yield nothing are dropped, as a JSONata
// path step drops undefined.
func fnArrayMap(ev *evaluator, n *node) (any, error) {
	src, err := ev.eval(n.args[0])
	if err != nil {
		return nil, err
	}
	list := asList(src)
	out := make([]any, 0, len(list))
	fn := n.args[1]
	if s, ok := fn.val.(string); ok && fn.kind == nLit {
		var segs []string
		if s != "" {
			segs = splitPath(s)
		}
		for _, e := range list {
			if err := ev.step(n.pos); err != nil {
				return nil, err
			}
			if len(segs) == 0 {
				if e != nil {
					out = append(out, e)
				}
				continue
			}
			m, _ := e.(map[string]any)
			if v, ok := lookupSegs(m, segs); ok && v != nil {
				out = append(out, v)
			}
		}
		return out, nil
	}
	for _, e := range list {
		v, err := ev.withElem(e, fn)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// fnArrayQuantifier implements arraySome (every=false) and arrayEvery (every=true), stopping at the first
// element that decides the answer. An empty list is false for arraySome and true for arrayEvery.
func fnArrayQuantifier(every bool) func(*evaluator, *node) (any, error) {
	return func(ev *evaluator, n *node) (any, error) {
		src, err := ev.eval(n.args[0])
		if err != nil {
			return nil, err
		}
		for _, e := range asList(src) {
			v, err := ev.withElem(e, n.args[1])
			if err != nil {
				return nil, err
			}
			b, err := toBool(v)
			if err != nil {
				return nil, argErr(2, "%v", err)
			}
			if b != every {
				return b, nil
			}
		}
		return every, nil
	}
}

// contains reports whether list holds v under the package's loose element equality.
func (ev *evaluator) contains(list []any, v any) (bool, error) {
	for _, e := range list {
		eq, err := ev.equal(e, v)
		if err != nil || eq {
			return eq, err
		}
	}
	return false, nil
}

// fnContains is contains(list;value): true if list holds value or, when value is itself an array, any of
// its elements — the shape trigger filters on array-backed fields rely on. A missing field is false.
func fnContains(ev *evaluator, a []any) (any, error) {
	if a[1] == nil {
		return false, nil
	}
	return includesAny(ev, asList(a[0]), asList(a[1]))
}

func fnIncludes(f func(ev *evaluator, a, b []any) (bool, error)) func(*evaluator, []any) (any, error) {
	return func(ev *evaluator, args []any) (any, error) {
		return f(ev, asList(args[0]), asList(args[1]))
	}
}

func includesAny(ev *evaluator, a, b []any) (bool, error) {
	for _, v := range b {
		if ok, err := ev.contains(a, v); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// includesAll: every value of b is in a (vacuously true for an empty b).
func includesAll(ev *evaluator, a, b []any) (bool, error) {
	for _, v := range b {
		if ok, err := ev.contains(a, v); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// includesOnly: every element of a is one of b. An empty a is true, as "has no tag outside this set".
func includesOnly(ev *evaluator, a, b []any) (bool, error) {
	return includesAll(ev, b, a)
}

func fnNumberContains(ev *evaluator, a []any) (any, error) {
	for _, v := range asList(a[1]) {
		f, ok, err := toNum(v)
		if err != nil {
			return nil, argErr(2, "%v", err)
		}
		if !ok {
			continue
		}
		for _, e := range asList(a[0]) {
			if err := ev.step(0); err != nil {
				return nil, err
			}
			if g, gok, err := toNum(e); err == nil && gok && g == f {
				return true, nil
			}
		}
	}
	return false, nil
}
