// Command docgen writes webhookctl's command reference, one Markdown page
// per command, into the directory given as its argument. make generate
// runs it (go generate ./internal/cli/...), so the reference in docs/cli
// is checked fresh like all generated code.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra/doc"

	"github.com/webhookd/webhookd/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: docgen DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	// Pages of commands that no longer exist must not linger.
	old, err := filepath.Glob(filepath.Join(dir, "webhookctl*.md"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// An empty environment: no flag default or help text may depend on the
	// machine that generates the reference.
	f := cli.NewFactory()
	f.Getenv = func(string) string { return "" }
	return doc.GenMarkdownTree(cli.NewRootCommand(f), dir)
}
