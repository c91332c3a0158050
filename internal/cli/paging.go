package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// pageFlags are the paging flags of every list command.
type pageFlags struct {
	size  int32
	token string
	all   bool
}

func (p *pageFlags) register(cmd *cobra.Command) {
	cmd.Flags().Int32Var(&p.size, "page-size", 0, "results per page (the server's default when 0, at most 1000)")
	cmd.Flags().StringVar(&p.token, "page-token", "", "continue from the next-page token of a previous list")
	cmd.Flags().BoolVar(&p.all, "all", false, "fetch every page, not only the first")
}

func (p *pageFlags) validate() error {
	if p.size < 0 || p.size > 1000 {
		return usagef("--page-size must be between 0 and 1000, got %d", p.size)
	}
	return nil
}

// listPages calls fetch for the first page and, with --all, for every next
// one, collecting the items. It returns the next-page token left over
// (empty after --all).
func listPages[T any](ctx context.Context, p pageFlags, fetch func(ctx context.Context, size int32, token string) ([]T, string, error)) ([]T, string, error) {
	if err := p.validate(); err != nil {
		return nil, "", err
	}
	var all []T
	token := p.token
	for {
		items, next, err := fetch(ctx, p.size, token)
		if err != nil {
			return nil, "", err
		}
		all = append(all, items...)
		if !p.all || next == "" {
			return all, next, nil
		}
		token = next
	}
}

// moreHint tells people, on stderr, that a list has more pages; scripts
// reading --format json see the token in the document itself.
func (f *Factory) moreHint(next string) {
	if next != "" && f.flags.format != formatJSON {
		fmt.Fprintf(f.Err, "More results: add --all, or --page-token %s\n", next)
	}
}
