package cli

import (
	"context"

	"github.com/spf13/cobra"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

func newAPIKeysCommand(f *Factory) *cobra.Command {
	cmd := newGroup("api-keys", "Manage API keys of accounts and internal keys (internal key)",
		"  webhookctl api-keys create --account acct_01jd… --display-name 'Acme production'\n  webhookctl api-keys revoke key_01jd…", "api-key")
	cmd.AddCommand(newAPIKeysCreateCommand(f), newAPIKeysListCommand(f), newAPIKeysGetCommand(f), newAPIKeysRevokeCommand(f))
	return cmd
}

func apiKeyKind(k *webhooksv1.ApiKey) string {
	if k.GetInternal() {
		return "internal"
	}
	return k.GetAccount()
}

func (p *printer) apiKeyState(k *webhooksv1.ApiKey) string {
	if k.GetRevokeTime() != nil {
		return p.paint("revoked", red)
	}
	return p.paint("active", green)
}

func apiKeyFields(p *printer, k *webhooksv1.ApiKey) {
	p.fields(
		[2]string{"ID", id(k.GetName())},
		[2]string{"For", apiKeyKind(k)},
		[2]string{"Display name", k.GetDisplayName()},
		[2]string{"State", p.apiKeyState(k)},
		[2]string{"Created", formatTime(k.GetCreateTime())},
		[2]string{"Revoked", formatTime(k.GetRevokeTime())},
		[2]string{"Token", k.GetToken()},
	)
	if k.GetToken() != "" {
		p.line("\nThe token is shown once; webhookd keeps only a hash of it.")
	}
}

func newAPIKeysCreateCommand(f *Factory) *cobra.Command {
	var account, displayName string
	var internal bool
	cmd := &cobra.Command{
		Use:   "create (--account ACCOUNT | --internal) [--display-name NAME]",
		Short: "Create an API key; prints its token, once",
		Example: `  webhookctl api-keys create --account acct_01jd… --display-name 'Acme production'
  webhookctl api-keys create --internal --display-name 'billing service'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			k, err := c.Admin.CreateApiKey(cmd.Context(), &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{
				Account: optionalName("accounts", account), Internal: internal, DisplayName: displayName,
			}})
			if err != nil {
				return err
			}
			return f.printer().print(k, func(p *printer) { apiKeyFields(p, k) })
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "the account the key acts for, acct_…")
	cmd.Flags().BoolVar(&internal, "internal", false, "an internal key, for the platform's own services")
	cmd.Flags().StringVar(&displayName, "display-name", "", "who or what uses the key")
	cmd.MarkFlagsMutuallyExclusive("account", "internal")
	cmd.MarkFlagsOneRequired("account", "internal")
	return cmd
}

func newAPIKeysListCommand(f *Factory) *cobra.Command {
	var account string
	var page pageFlags
	cmd := &cobra.Command{
		Use:     "list [--account ACCOUNT]",
		Short:   "List an account's API keys, or the internal keys, newest first",
		Example: "  webhookctl api-keys list --account acct_01jd…\n  webhookctl api-keys list   # internal keys",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			keys, next, err := listPages(cmd.Context(), page, func(ctx context.Context, size int32, token string) ([]*webhooksv1.ApiKey, string, error) {
				resp, err := c.Admin.ListApiKeys(ctx, &webhooksv1.ListApiKeysRequest{Account: optionalName("accounts", account), PageSize: size, PageToken: token})
				return resp.GetApiKeys(), resp.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			f.moreHint(next)
			return f.printer().print(&webhooksv1.ListApiKeysResponse{ApiKeys: keys, NextPageToken: next}, func(p *printer) {
				rows := make([][]string, 0, len(keys))
				for _, k := range keys {
					rows = append(rows, []string{id(k.GetName()), apiKeyKind(k), k.GetDisplayName(), formatTime(k.GetCreateTime()), p.apiKeyState(k)})
				}
				p.table([]string{"ID", "FOR", "DISPLAY NAME", "CREATED", "STATE"}, rows)
			})
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "the account whose keys to list, acct_… (default: the internal keys)")
	page.register(cmd)
	return cmd
}

func apiKeyAction(f *Factory, use, short, example string, call func(*cobra.Command, *Client, string) (*webhooksv1.ApiKey, error)) *cobra.Command {
	return &cobra.Command{
		Use:     use + " KEY",
		Short:   short,
		Example: example,
		Args:    exactArgs("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			k, err := call(cmd, c, resourceName("apiKeys", args[0]))
			if err != nil {
				return err
			}
			return f.printer().print(k, func(p *printer) { apiKeyFields(p, k) })
		},
	}
}

func newAPIKeysGetCommand(f *Factory) *cobra.Command {
	return apiKeyAction(f, "get", "Show an API key (without its token)", "  webhookctl api-keys get key_01jd…",
		func(cmd *cobra.Command, c *Client, name string) (*webhooksv1.ApiKey, error) {
			return c.Admin.GetApiKey(cmd.Context(), &webhooksv1.GetApiKeyRequest{Name: name})
		})
}

func newAPIKeysRevokeCommand(f *Factory) *cobra.Command {
	return apiKeyAction(f, "revoke", "Revoke an API key, for good", "  webhookctl api-keys revoke key_01jd…",
		func(cmd *cobra.Command, c *Client, name string) (*webhooksv1.ApiKey, error) {
			return c.Admin.RevokeApiKey(cmd.Context(), &webhooksv1.RevokeApiKeyRequest{Name: name})
		})
}
