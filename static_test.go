package seshat_test

import (
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The static checks below read the source of every package in the
// repository (all modules, tests and generated code excluded) with go/ast.
// They are cheap, need no build of the other modules, and fail with the
// position of each finding.

// secretName matches identifiers that hold a MAC, signature, token or
// hash: the operands that must only be compared in constant time.
var secretName = regexp.MustCompile(`(?i)(mac|sig|signature|digest|token|validator|hash|secret)s?$`)

// notSecret lists comparisons the rule flags by name but that compare no
// secret, each with the reason. Keys are "dir/file.go: expression".
var notSecret = map[string]string{
	"filestore/filestore.go: userHash(r.User) == uh": "hash of a user id, the key of the per-user index; user ids are not secrets",
}

// SC-02 / T-12(a), Rack CVE-2013-0263, securecookie PR #15: MACs, tokens,
// validators and their hashes are compared only with hmac.Equal or
// subtle.ConstantTimeCompare, never with ==, !=, bytes.Equal, bytes.Compare
// or strings.Compare, whose running time depends on the first differing
// byte.
//
// Why that is enough: hmac.Equal and subtle.ConstantTimeCompare look at
// every byte of equal-length inputs whatever their contents (they return
// early only on a length mismatch, and lengths are public: a digest size);
// the work done before the comparison (base64 decoding, the HMAC of the
// attacker's own body) depends on the attacker's input, not on the expected
// value. So the time of a verification tells nothing about how many leading
// bytes of a forged MAC were right.
func TestCVE_2013_0263_ConstantTimeComparisons(t *testing.T) {
	// The rule must find what it is meant to find.
	const sample = `package p
func f() {
	_ = bytes.Equal(mac, expected)
	_ = sig == want
	_ = string(tok.Hash) != string(h)
	_ = strings.Compare(token, other)
	_ = hmac.Equal(mac, want)
	_ = token == ""
	_ = t.PrevHash != nil
	_ = len(digest) != size
	_ = mode == RememberTokens
	_ = subtle.ConstantTimeCompare(a, tok.Hash) == 1
}
const RememberTokens = 1
`
	found := scanComparisons(t, map[string]string{"p/p.go": sample})
	want := []string{
		"p/p.go: bytes.Equal(mac, expected)",
		"p/p.go: sig == want",
		"p/p.go: string(tok.Hash) != string(h)",
		"p/p.go: strings.Compare(token, other)",
	}
	if !slices.Equal(found, want) {
		t.Fatalf("the rule found\n%s\nwant\n%s", strings.Join(found, "\n"), strings.Join(want, "\n"))
	}

	var bad []string
	for _, f := range scanComparisons(t, repoSources(t)) {
		if _, ok := notSecret[f]; !ok {
			bad = append(bad, f)
		}
	}
	if len(bad) > 0 {
		t.Errorf("non-constant-time comparison of a secret (use hmac.Equal or subtle.ConstantTimeCompare, or add a reason to notSecret):\n%s", strings.Join(bad, "\n"))
	}
}

// SID-01 / T-15: no library package draws from math/rand, so no id, token
// or secret can come from it. Only the stores' retry jitter may, listed here
// by file; programs (package main: load generators, demos) are not
// libraries and are skipped.
func TestNoMathRand(t *testing.T) {
	jitterOnly := []string{"flasksessionredis/store.go", "mysqlstore/mysqlstore.go"}
	for name, src := range repoSources(t) {
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name == "main" {
			continue
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if (p == "math/rand" || p == "math/rand/v2") && !slices.Contains(jitterOnly, name) {
				t.Errorf("%s imports %s; ids, tokens and keys come from crypto/rand", name, p)
			}
		}
	}
}

// repoSources returns every non-test Go file of the repository by its path
// relative to the root.
func repoSources(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != "." && (n == "testdata" || n == "vendor" || strings.HasPrefix(n, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b[:min(len(b), 512)]), "Code generated") {
			return nil
		}
		out[filepath.ToSlash(p)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("found only %d source files; is the test running from the repository root?", len(out))
	}
	return out
}

// scanComparisons returns "file: expression" for every ==, != or
// bytes/strings comparison function with an operand named like a secret,
// sorted.
func scanComparisons(t *testing.T, files map[string]string) []string {
	t.Helper()
	fset := token.NewFileSet()
	parsed := map[string]*ast.File{}
	consts := map[string]map[string]bool{} // dir → package-level constants
	for name, src := range files {
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed[name] = f
		dir := filepath.Dir(name)
		if consts[dir] == nil {
			consts[dir] = map[string]bool{}
		}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
				for _, s := range g.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						consts[dir][n.Name] = true
					}
				}
			}
		}
	}
	var found []string
	for name, f := range parsed {
		// value reports whether e is a run-time value rather than nil, a
		// literal, a length or a constant: comparing a secret with those
		// reveals nothing but emptiness or a public length.
		value := func(e ast.Expr) (string, bool) {
			n, ok := operandName(e)
			return n, ok && !consts[filepath.Dir(name)][n]
		}
		secret := func(e ast.Expr) bool {
			n, ok := value(e)
			return ok && secretName.MatchString(n)
		}
		report := func(n ast.Node) {
			var b strings.Builder
			printer.Fprint(&b, fset, n)
			found = append(found, name+": "+b.String())
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BinaryExpr:
				_, lv := value(x.X)
				_, rv := value(x.Y)
				if (x.Op == token.EQL || x.Op == token.NEQ) && lv && rv && (secret(x.X) || secret(x.Y)) {
					report(x)
				}
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok || !(pkg.Name == "bytes" && (sel.Sel.Name == "Equal" || sel.Sel.Name == "Compare") ||
					pkg.Name == "strings" && (sel.Sel.Name == "Compare" || sel.Sel.Name == "EqualFold") ||
					pkg.Name == "reflect" && sel.Sel.Name == "DeepEqual") {
					return true
				}
				if slices.ContainsFunc(x.Args, secret) {
					report(x)
				}
			}
			return true
		})
	}
	slices.Sort(found)
	return found
}

// operandName names what an operand holds: a variable or field name, the
// argument of a conversion, the function of a call. Literals, nil, len()
// and the int result of subtle.ConstantTimeCompare have no name.
func operandName(e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.Ident:
		if x.Name == "nil" || x.Name == "true" || x.Name == "false" {
			return "", false
		}
		return x.Name, true
	case *ast.SelectorExpr:
		return x.Sel.Name, true
	case *ast.ParenExpr:
		return operandName(x.X)
	case *ast.StarExpr:
		return operandName(x.X)
	case *ast.UnaryExpr:
		return operandName(x.X)
	case *ast.IndexExpr:
		return operandName(x.X)
	case *ast.SliceExpr:
		return operandName(x.X)
	case *ast.CallExpr:
		switch fn := x.Fun.(type) {
		case *ast.Ident:
			if fn.Name == "len" || fn.Name == "cap" {
				return "", false
			}
			if fn.Name == "string" && len(x.Args) == 1 {
				return operandName(x.Args[0])
			}
			return fn.Name, true
		case *ast.ArrayType: // []byte(x)
			if len(x.Args) == 1 {
				return operandName(x.Args[0])
			}
		case *ast.SelectorExpr:
			if fn.Sel.Name == "ConstantTimeCompare" || fn.Sel.Name == "Equal" {
				return "", false
			}
			return fn.Sel.Name, true
		}
	}
	return "", false
}
