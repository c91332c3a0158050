package cli

import (
	"context"

	"github.com/spf13/cobra"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

func newAccountsCommand(f *Factory) *cobra.Command {
	cmd := newGroup("accounts", "Manage the platform's customer accounts (internal key)",
		"  webhookctl accounts create --display-name 'Acme Realty'\n  webhookctl accounts list", "account")
	cmd.AddCommand(newAccountsCreateCommand(f), newAccountsListCommand(f), newAccountsGetCommand(f))
	return cmd
}

func accountFields(p *printer, a *webhooksv1.Account) {
	p.fields(
		[2]string{"ID", id(a.GetName())},
		[2]string{"Display name", a.GetDisplayName()},
		[2]string{"Created", formatTime(a.GetCreateTime())},
	)
}

func newAccountsCreateCommand(f *Factory) *cobra.Command {
	var displayName string
	cmd := &cobra.Command{
		Use:     "create --display-name NAME",
		Short:   "Create an account",
		Example: "  webhookctl accounts create --display-name 'Acme Realty'",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			a, err := c.Admin.CreateAccount(cmd.Context(), &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: displayName}})
			if err != nil {
				return err
			}
			return f.printer().print(a, func(p *printer) { accountFields(p, a) })
		},
	}
	cmd.Flags().StringVar(&displayName, "display-name", "", "a human-readable name")
	_ = cmd.MarkFlagRequired("display-name")
	return cmd
}

func newAccountsListCommand(f *Factory) *cobra.Command {
	var page pageFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List accounts, newest first",
		Example: "  webhookctl accounts list --all",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			accounts, next, err := listPages(cmd.Context(), page, func(ctx context.Context, size int32, token string) ([]*webhooksv1.Account, string, error) {
				resp, err := c.Admin.ListAccounts(ctx, &webhooksv1.ListAccountsRequest{PageSize: size, PageToken: token})
				return resp.GetAccounts(), resp.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			f.moreHint(next)
			return f.printer().print(&webhooksv1.ListAccountsResponse{Accounts: accounts, NextPageToken: next}, func(p *printer) {
				rows := make([][]string, 0, len(accounts))
				for _, a := range accounts {
					rows = append(rows, []string{id(a.GetName()), a.GetDisplayName(), formatTime(a.GetCreateTime())})
				}
				p.table([]string{"ID", "DISPLAY NAME", "CREATED"}, rows)
			})
		},
	}
	page.register(cmd)
	return cmd
}

func newAccountsGetCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "get ACCOUNT",
		Short:   "Show an account",
		Example: "  webhookctl accounts get acct_01jd…",
		Args:    exactArgs("ACCOUNT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			a, err := c.Admin.GetAccount(cmd.Context(), &webhooksv1.GetAccountRequest{Name: resourceName("accounts", args[0])})
			if err != nil {
				return err
			}
			return f.printer().print(a, func(p *printer) { accountFields(p, a) })
		},
	}
}
