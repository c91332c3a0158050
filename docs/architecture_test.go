package docs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestArchitectureReferences checks that docs/architecture.md names code
// that exists: every `path.go` is a file of the repository, every `Func()`,
// `Type.Method()`, `Type` and `Type.Field` is declared in its Go code, and
// in a table with "file" and "function" columns the function is declared
// in that row's file. The page follows a delivery through the code, so a
// rename or a move that it does not follow fails here, naming the line.
func TestArchitectureReferences(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	decls, err := goDeclarations(os.DirFS(repoRoot))
	if err != nil {
		t.Fatal(err)
	}
	problems, counts := checkArchitecture(string(b), decls, func(p string) bool {
		_, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(p)))
		return err == nil
	})
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("checked %d file paths, %d names and %d table rows", counts.files, counts.names, counts.rows)
	// A page whose references the parser no longer sees would pass.
	if counts.files < 20 || counts.names < 40 || counts.rows < 30 {
		t.Errorf("found only %d file paths, %d names and %d table rows in docs/architecture.md; the parser has stopped seeing them",
			counts.files, counts.names, counts.rows)
	}
}

// TestArchitectureCheckerFindsStaleReferences runs the checker on small
// pages, so that it is known to catch what it is meant to.
func TestArchitectureCheckerFindsStaleReferences(t *testing.T) {
	t.Parallel()
	decls := declarations{
		"Engine.Run":        {"worker/engine.go"},
		"concludeAttempt":   {"worker/conclude.go"},
		"Claim":             {"worker/schedule.go"},
		"Claim.LeaseUntil":  {"worker/schedule.go"},
		"Schedule.Dispatch": {"worker/schedule.go"},
	}
	exists := func(p string) bool {
		return slices.Contains([]string{"worker/engine.go", "worker/conclude.go", "worker/schedule.go"}, p)
	}
	table := "| step | file | function |\n| --- | --- | --- |\n"
	for _, tc := range []struct {
		name string
		page string
		want []string
	}{
		{"names that exist", "`worker/engine.go` runs `Engine.Run()`; `Claim.LeaseUntil` and `Claim`; `UNAVAILABLE`, `JSON.stringify` and `idempotencyKey` are not code", nil},
		{"a row that is right", table + "| run | `worker/engine.go` | `Engine.Run()` |", nil},
		{"a row without a file goes on", table + "| decide | `worker/conclude.go` | `concludeAttempt()` |\n| | `worker/engine.go` | `Engine.Run()` |", nil},
		{"code blocks are not checked", "```text\n`gone.go` and `Gone()`\n```", nil},
		{"a file that is gone", "see `worker/ssrf.go`", []string{"worker/ssrf.go: no such file"}},
		{"a function that is gone", "see `Engine.Dispatch()`", []string{"Engine.Dispatch: not declared"}},
		{"a type that is gone", "see `DeliveryStore`", []string{"DeliveryStore: not declared"}},
		{"a field that is gone", "see `Claim.Lease`", []string{"Claim.Lease: not declared"}},
		{"a function moved to another file", table + "| decide | `worker/engine.go` | `concludeAttempt()` |", []string{"concludeAttempt: declared in worker/conclude.go, not in worker/engine.go"}},
		{"a row whose file is gone", table + "| decide | `worker/decision.go` | `concludeAttempt()` |", []string{"worker/decision.go: no such file", "not in worker/decision.go"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			problems, _ := checkArchitecture(tc.page, decls, exists)
			if len(problems) != len(tc.want) {
				t.Fatalf("problems = %q, want %d matching %q", problems, len(tc.want), tc.want)
			}
			for i, want := range tc.want {
				if !strings.Contains(problems[i], want) {
					t.Errorf("problem %d = %q, want it to say %q", i, problems[i], want)
				}
			}
		})
	}
}

// declarations maps a declared name to the files declaring it: top-level
// functions, types, variables and constants as "Name", methods and struct
// fields as "Type.Name".
type declarations map[string][]string

// goDeclarations reads the declarations of every Go file of fsys, generated
// and test files included, outside node_modules and testdata.
func goDeclarations(fsys fs.FS) (declarations, error) {
	decls := declarations{}
	fset := token.NewFileSet()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "testdata", ".git":
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, p, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		add := func(name string) {
			if !slices.Contains(decls[name], p) {
				decls[name] = append(decls[name], p)
			}
		}
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				if decl.Recv == nil || len(decl.Recv.List) == 0 {
					add(decl.Name.Name)
				} else {
					add(receiverName(decl.Recv.List[0].Type) + "." + decl.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range decl.Specs {
					switch spec := spec.(type) {
					case *ast.TypeSpec:
						add(spec.Name.Name)
						if st, ok := spec.Type.(*ast.StructType); ok {
							for _, field := range st.Fields.List {
								for _, n := range field.Names {
									add(spec.Name.Name + "." + n.Name)
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range spec.Names {
							add(n.Name)
						}
					}
				}
			}
		}
		return nil
	})
	return decls, err
}

// receiverName is the type name of a method's receiver: Engine for
// (e *Engine), List for (l *List[T]).
func receiverName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

var (
	// span is a code span of the page.
	span = regexp.MustCompile("`([^`\n]+)`")
	// goFile is a path of a Go file.
	goFile = regexp.MustCompile(`^[\w./-]+\.go$`)
	// call is a function or method: Name() or Type.Name().
	call = regexp.MustCompile(`^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)\(\)$`)
	// typeName is an exported type or its field or method: Name or
	// Type.Name, capitalised words (not UNAVAILABLE, JSON.stringify or the
	// API's lowerCamel fields).
	typeName = regexp.MustCompile(`^[A-Z][a-z]\w*(?:\.[A-Z]\w*)?$`)
)

// referenceCounts is how much checkArchitecture found to check.
type referenceCounts struct{ files, names, rows int }

// checkArchitecture returns one line per stale reference of page, a
// Markdown document: "line N: reference: problem".
func checkArchitecture(page string, decls declarations, exists func(path string) bool) (problems []string, counts referenceCounts) {
	report := func(line int, ref, problem string) {
		problems = append(problems, "docs/architecture.md line "+strconv.Itoa(line)+": "+ref+": "+problem)
	}
	var columns map[string]int // of the table being read: name → index
	lastFile := ""             // of the table's previous row, for rows that go on
	for i, line := range strings.Split(withoutFences(page), "\n") {
		n := i + 1
		for _, m := range span.FindAllStringSubmatch(line, -1) {
			ref := m[1]
			switch {
			case goFile.MatchString(ref):
				counts.files++
				if !exists(path.Clean(ref)) {
					report(n, ref, "no such file")
				}
			case call.MatchString(ref):
				counts.names++
				if name := call.FindStringSubmatch(ref)[1]; len(decls[name]) == 0 {
					report(n, name, "not declared in any Go file")
				}
			case typeName.MatchString(ref):
				counts.names++
				if len(decls[ref]) == 0 {
					report(n, ref, "not declared in any Go file")
				}
			}
		}
		if !strings.HasPrefix(strings.TrimSpace(line), "|") {
			columns, lastFile = nil, ""
			continue
		}
		cells := tableCells(line)
		if columns == nil {
			columns = map[string]int{}
			for j, c := range cells {
				columns[strings.ToLower(c)] = j
			}
			continue
		}
		fi, okF := columns["file"]
		fu, okU := columns["function"]
		if !okF || !okU || fi >= len(cells) || fu >= len(cells) || strings.HasPrefix(cells[0], "---") {
			continue
		}
		file := strings.Trim(cells[fi], "`")
		if file == "" {
			file = lastFile
		}
		lastFile = file
		m := call.FindStringSubmatch(strings.Trim(cells[fu], "`"))
		if m == nil {
			report(n, cells[fu], "the function column holds no Name() or Type.Name()")
			continue
		}
		counts.rows++
		if in := decls[m[1]]; len(in) > 0 && !slices.Contains(in, file) {
			// Not declared at all is reported above, with the cell's span.
			report(n, m[1], "declared in "+strings.Join(in, ", ")+", not in "+file)
		}
	}
	return problems, counts
}

// withoutFences blanks fenced code blocks, keeping line numbers.
func withoutFences(text string) string {
	lines := strings.Split(text, "\n")
	in := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			in = !in
			lines[i] = ""
		} else if in {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n")
}

// tableCells splits a Markdown table row into its trimmed cells.
func tableCells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(strings.TrimSuffix(row, "|"), "|")
	cells := strings.Split(row, "|")
	for i, c := range cells {
		cells[i] = strings.TrimSpace(c)
	}
	return cells
}
