package samcheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"strings"
)

// APIRoutes reads the routes the REST API registers from pkg/api/routes.go ("METHOD /path" patterns of
// the ServeMux), so the template can be checked against the code rather than against a copy of the
// list. It understands the forms routes.go uses: a string literal, and a concatenation with the variable
// of a `for _, p := range []string{...}` loop (the two Automations V2 prefixes).
func APIRoutes(path string) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		return nil, err
	}
	loopVals := map[string][]string{} // range variable → the strings it takes
	var routes []string
	var walkErr error
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.RangeStmt:
			v, ok := n.Value.(*ast.Ident)
			lit, ok2 := n.X.(*ast.CompositeLit)
			if !ok || !ok2 {
				return true
			}
			var vals []string
			for _, e := range lit.Elts {
				if s, ok := stringLit(e); ok {
					vals = append(vals, s)
				}
			}
			loopVals[v.Name] = vals
		case *ast.CallExpr:
			if !isRouteCall(n) || len(n.Args) == 0 {
				return true
			}
			if id, ok := n.Args[0].(*ast.Ident); ok && loopVals[id.Name] == nil {
				return true // the handle helper passing its own pattern parameter on to the mux
			}
			pats, err := evalConcat(n.Args[0], loopVals)
			if err != nil {
				walkErr = fmt.Errorf("%s: %w", fset.Position(n.Pos()), err)
				return false
			}
			routes = append(routes, pats...)
		}
		return true
	})
	if walkErr != nil {
		return nil, walkErr
	}
	sort.Strings(routes)
	return routes, nil
}

// isRouteCall matches handle(…), mux.Handle(…) and mux.HandleFunc(…).
func isRouteCall(c *ast.CallExpr) bool {
	switch fn := c.Fun.(type) {
	case *ast.Ident:
		return fn.Name == "handle"
	case *ast.SelectorExpr:
		return fn.Sel.Name == "Handle" || fn.Sel.Name == "HandleFunc"
	}
	return false
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// evalConcat evaluates "a" + p + "b" for every value of the loop variables it uses.
func evalConcat(e ast.Expr, loopVals map[string][]string) ([]string, error) {
	if s, ok := stringLit(e); ok {
		return []string{s}, nil
	}
	switch e := e.(type) {
	case *ast.Ident:
		vals, ok := loopVals[e.Name]
		if !ok {
			return nil, fmt.Errorf("route pattern uses %s, which is not a range variable over string literals", e.Name)
		}
		return vals, nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			break
		}
		left, err := evalConcat(e.X, loopVals)
		if err != nil {
			return nil, err
		}
		right, err := evalConcat(e.Y, loopVals)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, l := range left {
			for _, r := range right {
				out = append(out, l+r)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("route pattern %T is not a string concatenation this check understands", e)
}

// SplitRoute splits "POST /v1/apps" into method and path.
func SplitRoute(r string) (method, path string) {
	method, path, _ = strings.Cut(r, " ")
	return method, path
}
