package expr

// fnIf evaluates only the chosen branch; a missing else yields nil.
func fnIf(ev *evaluator, n *node) (any, error) {
	c, err := ev.eval(n.args[0])
	if err != nil {
		return nil, err
	}
	b, err := toBool(c)
	if err != nil {
		return nil, argErr(1, "%v", err)
	}
	if b {
		return ev.eval(n.args[1])
	}
	if len(n.args) > 2 {
		return ev.eval(n.args[2])
	}
	return nil, nil
}

// fnAndOr short-circuits left to right: and stops at the first false, or at the first true.
func fnAndOr(isAnd bool) func(*evaluator, *node) (any, error) {
	return func(ev *evaluator, n *node) (any, error) {
		for i, a := range n.args {
			v, err := ev.eval(a)
			if err != nil {
				return nil, err
			}
			b, err := toBool(v)
			if err != nil {
				return nil, argErr(i+1, "%v", err)
			}
			if b != isAnd {
				return b, nil
			}
		}
		return isAnd, nil
	}
}

func fnNot(_ *evaluator, a []any) (any, error) {
	b, err := toBool(a[0])
	if err != nil {
		return nil, argErr(1, "%v", err)
	}
	return !b, nil
}

func fnBoolEq(_ *evaluator, a []any) (any, error) {
	if a[0] == nil || a[1] == nil {
		return false, nil
	}
	x, err := toBool(a[0])
	if err != nil {
		return nil, argErr(1, "%v", err)
	}
	y, err := toBool(a[1])
	if err != nil {
		return nil, argErr(2, "%v", err)
	}
	return x == y, nil
}

// fnIsEmpty: nil, "", [] and {} are empty; numbers and booleans never are (0 and false are values).
func fnIsEmpty(_ *evaluator, a []any) (any, error) {
	switch x := a[0].(type) {
	case nil:
		return true, nil
	case string:
		return x == "", nil
	case []any:
		return len(x) == 0, nil
	case map[string]any:
		return len(x) == 0, nil
	}
	return false, nil
}
