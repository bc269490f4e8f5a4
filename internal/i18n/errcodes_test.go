package i18n

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// errorMessage is one error message the Go source can give: its catalog
// key (code or code.variant), English format and where it is written.
type errorMessage struct {
	key, format, at string
	params          []string // names given with errs.P
}

// sourceErrors finds every error message in the repository's Go code
// (tests aside): the calls errs.New, errs.NewVariant, errs.Invalid and
// errs.InvalidVariant with literal codes, and internal/web's protocolError
// literals. A call whose code, variant or format is not a literal is
// reported as a problem: the catalogs could not be checked against it.
func sourceErrors(t *testing.T, root string) (msgs []errorMessage, problems []string) {
	t.Helper()
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "testdata" || strings.HasPrefix(n, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok || pkg.Name != "errs" {
					return true
				}
				var codeAt, variantAt, formatAt int
				switch sel.Sel.Name {
				case "New":
					codeAt, variantAt, formatAt = 1, -1, 2
				case "NewVariant":
					codeAt, variantAt, formatAt = 1, 2, 3
				case "Invalid":
					codeAt, variantAt, formatAt = 0, -1, 1
				case "InvalidVariant":
					codeAt, variantAt, formatAt = 0, 1, 2
				default:
					return true
				}
				at := fset.Position(x.Pos())
				where := rel + ":" + strconv.Itoa(at.Line)
				lit := func(i int) (string, bool) {
					if i < 0 {
						return "", true
					}
					if i >= len(x.Args) {
						return "", false
					}
					b, ok := x.Args[i].(*ast.BasicLit)
					if !ok || b.Kind != token.STRING {
						return "", false
					}
					s, err := strconv.Unquote(b.Value)
					return s, err == nil
				}
				code, ok1 := lit(codeAt)
				variant, ok2 := lit(variantAt)
				format, ok3 := lit(formatAt)
				if !ok1 || !ok2 || !ok3 {
					problems = append(problems, where+": errs."+sel.Sel.Name+" without a literal code, variant and format")
					return true
				}
				m := errorMessage{key: code, format: format, at: where}
				if variant != "" {
					m.key += "." + variant
				}
				for _, a := range x.Args[formatAt+1:] {
					if c, ok := a.(*ast.CallExpr); ok {
						if s, ok := c.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "P" && len(c.Args) == 2 {
							if b, ok := c.Args[0].(*ast.BasicLit); ok {
								name, _ := strconv.Unquote(b.Value)
								m.params = append(m.params, name)
								continue
							}
						}
					}
					m.params = append(m.params, "")
				}
				msgs = append(msgs, m)
			case *ast.CompositeLit:
				id, ok := x.Type.(*ast.Ident)
				if !ok || id.Name != "protocolError" || len(x.Elts) != 3 {
					return true
				}
				at := fset.Position(x.Pos())
				code, ok := x.Elts[1].(*ast.BasicLit)
				if !ok {
					problems = append(problems, rel+":"+strconv.Itoa(at.Line)+": protocolError without a literal code")
					return true
				}
				c, _ := strconv.Unquote(code.Value)
				msgs = append(msgs, errorMessage{key: c, format: "(protocol error)", at: rel + ":" + strconv.Itoa(at.Line)})
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return msgs, problems
}
