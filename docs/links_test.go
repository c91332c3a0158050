package docs_test

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// repoRoot is the repository's root, seen from this package's directory.
const repoRoot = ".."

// TestLinksResolve checks every relative link and image of the
// repository's Markdown: README.md, CONTRIBUTING.md, docs/ (docs/cli
// included) and the READMEs of the SDKs, the dashboard and third_party,
// which link into docs/. The file or directory a link names exists, and its
// #anchor, if any, is a heading of the Markdown file it points to, as
// GitHub makes anchors from headings.
func TestLinksResolve(t *testing.T) {
	t.Parallel()
	var files []string
	err := fs.WalkDir(os.DirFS(repoRoot), ".", func(p string, d fs.DirEntry, err error) error {
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
		if strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"README.md", "CONTRIBUTING.md", "docs/architecture.md", "docs/cli/webhookctl.md"} {
		if !slices.Contains(files, want) {
			t.Errorf("%s is not among the files checked", want)
		}
	}
	problems, links, err := checkLinks(os.DirFS(repoRoot), files)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("checked %d relative links in %d files", links, len(files))
	// A checker that finds nothing to check would pass whatever the docs say.
	if links < 100 {
		t.Errorf("checked only %d relative links in %d files; the link parser has stopped finding them", links, len(files))
	}
}

// TestLinkCheckerFindsBrokenLinks runs the checker on small trees, so that
// it is known to fail on what it is meant to catch and to pass the forms
// the docs use.
func TestLinkCheckerFindsBrokenLinks(t *testing.T) {
	t.Parallel()
	other := "# Other\n\n## Set up `make test` (the short form)\n\n## Set up `make test` (the short form)\n\n<a id=\"custom\"></a>\n"
	for _, tc := range []struct {
		name string
		doc  string
		want []string // substrings of the problems, one each; none: no problem
	}{
		{"a file that exists", "see [other](other.md)", nil},
		{"a directory that exists", "see [the folder](sub/)", nil},
		{"an external link", "see [site](https://example.com/none.md#nothing) and <https://example.com>", nil},
		{"an anchor of this file", "# Title\n\nsee [t](#title)", nil},
		{"a heading with code and punctuation", "see [o](other.md#set-up-make-test-the-short-form)", nil},
		{"a repeated heading", "see [o](other.md#set-up-make-test-the-short-form-1)", nil},
		{"an explicit anchor", "see [o](other.md#custom)", nil},
		{"a link inside code is not a link", "```\n[x](missing.md)\n```\nand `[y](missing.md)`", nil},
		{"a link text over two lines", "see [the other\nfile](other.md)", nil},
		{"a reference definition", "see [o][ref]\n\n[ref]: other.md#other", nil},
		{"a missing file", "see [gone](gone.md)", []string{`gone.md: no such file`}},
		{"a missing image", "![shot](img/missing.png)", []string{`img/missing.png: no such file`}},
		{"a missing anchor in another file", "see [o](other.md#nothing)", []string{`other.md#nothing: no heading`}},
		{"a missing anchor in this file", "# Title\n\nsee [t](#titel)", []string{`#titel: no heading`}},
		{"a repeated heading's third anchor", "see [o](other.md#set-up-make-test-the-short-form-2)", []string{`no heading`}},
		{"an anchor into a file that is not Markdown", "see [g](sub/code.go#L1)", []string{`not a Markdown file`}},
		{"a broken reference definition", "[ref]: gone.md", []string{`gone.md: no such file`}},
		{"a link out of the repository", "see [x](../../etc/passwd)", []string{`outside the repository`}},
		{"two problems", "[a](a.md) [b](other.md#b)", []string{`a.md: no such file`, `other.md#b: no heading`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, body := range map[string]string{
				"doc.md": tc.doc, "other.md": other, "sub/code.go": "package sub\n",
			} {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			problems, _, err := checkLinks(os.DirFS(dir), []string{"doc.md"})
			if err != nil {
				t.Fatal(err)
			}
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

var (
	// inlineLink is a link or image: [text](target "title"); text may span
	// lines and hold brackets one level deep.
	inlineLink = regexp.MustCompile(`!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^\s)>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// referenceDef is a reference definition: [label]: target.
	referenceDef = regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$`)
	// htmlLink is an href or src attribute of inline HTML.
	htmlLink = regexp.MustCompile(`(?i)<(?:a|img)\s[^>]*\b(?:href|src)="([^"]+)"`)
	// htmlAnchor is an explicit anchor: <a id="…"> or <a name="…">.
	htmlAnchor = regexp.MustCompile(`(?i)<a\s[^>]*\b(?:id|name)="([^"]+)"`)
	// scheme starts an absolute URL (https:, mailto:, …).
	scheme     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	atxHeading = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
)

// checkLinks checks the relative links of files (slash paths in fsys) and
// returns one line per broken link, "file:line: target: problem", and how
// many relative links it checked.
func checkLinks(fsys fs.FS, files []string) (problems []string, checked int, err error) {
	anchors := map[string]map[string]bool{} // Markdown file → its anchors
	anchorsOf := func(name string) (map[string]bool, error) {
		if a, ok := anchors[name]; ok {
			return a, nil
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		a := headingAnchors(string(b))
		anchors[name] = a
		return a, nil
	}
	for _, file := range files {
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, 0, err
		}
		text := withoutCode(string(b))
		var targets [][]int // submatch indexes of the target
		for _, re := range []*regexp.Regexp{inlineLink, referenceDef, htmlLink} {
			for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
				targets = append(targets, m[2:4])
			}
		}
		slices.SortFunc(targets, func(a, b []int) int { return a[0] - b[0] })
		for _, m := range targets {
			target := text[m[0]:m[1]]
			if scheme.MatchString(target) {
				continue
			}
			checked++
			line := 1 + strings.Count(text[:m[0]], "\n")
			report := func(format string, args ...any) {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", file, line, target, fmt.Sprintf(format, args...)))
			}
			p, anchor, _ := strings.Cut(target, "#")
			dest := file
			if p != "" {
				dest = path.Join(path.Dir(file), p)
				if dest == ".." || strings.HasPrefix(dest, "../") {
					report("outside the repository")
					continue
				}
				if _, err := fs.Stat(fsys, dest); err != nil {
					report("no such file or directory (%s)", dest)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(dest, ".md") {
				report("an anchor into %s, which is not a Markdown file", dest)
				continue
			}
			a, err := anchorsOf(dest)
			if err != nil {
				return nil, 0, err
			}
			if !a[anchor] {
				report("no heading of %s has the anchor #%s", dest, anchor)
			}
		}
	}
	return problems, checked, nil
}

// withoutCode blanks fenced code blocks and code spans, keeping every line
// break so that line numbers stay right: what they hold is not a link.
func withoutCode(text string) string {
	lines := strings.Split(text, "\n")
	fence := ""
	for i, l := range lines {
		trimmed := strings.TrimLeft(l, " ")
		switch {
		case fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:3]
			lines[i] = ""
		case fence != "":
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			lines[i] = ""
		}
	}
	text = strings.Join(lines, "\n")
	return codeSpan.ReplaceAllStringFunc(text, func(s string) string {
		return strings.Repeat("\n", strings.Count(s, "\n"))
	})
}

// codeSpan is an inline code span of one or two backticks.
var codeSpan = regexp.MustCompile("``[^`]+``|`[^`]+`")

// headingAnchors returns the anchors GitHub gives the headings of a
// Markdown document, and its explicit <a id> anchors.
func headingAnchors(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	fence := ""
	for _, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimLeft(l, " ")
		if fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")) {
			fence = trimmed[:3]
			continue
		}
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		for _, m := range htmlAnchor.FindAllStringSubmatch(l, -1) {
			anchors[m[1]] = true
		}
		m := atxHeading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := slug(m[2])
		if n := seen[s]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			anchors[s] = true
		}
		seen[s]++
	}
	return anchors
}

// linkMarkup and emphasis are the inline Markdown a heading's text loses
// when rendered: a link's target and brackets, emphasis and code marks.
var (
	linkMarkup = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	emphasis   = regexp.MustCompile("[*`]")
)

// slug is GitHub's anchor for a heading: its rendered text in lower case,
// without punctuation (letters, digits, spaces, hyphens and underscores
// stay), each space turned into a hyphen.
func slug(heading string) string {
	heading = emphasis.ReplaceAllString(linkMarkup.ReplaceAllString(heading, "$1"), "")
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}
