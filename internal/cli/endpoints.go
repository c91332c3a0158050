package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

func newEndpointsCommand(f *Factory) *cobra.Command {
	cmd := newGroup("endpoints", "Register and manage the URLs that receive events",
		"  webhookctl endpoints create --url https://example.com/webhooks --event-type property.created\n  webhookctl endpoints list", "endpoint")
	cmd.AddCommand(
		newEndpointsListCommand(f), newEndpointsGetCommand(f), newEndpointsCreateCommand(f),
		newEndpointsUpdateCommand(f), newEndpointsDeleteCommand(f),
		newEndpointsEnableCommand(f), newEndpointsDisableCommand(f),
		newEndpointsSecretCommand(f), newEndpointsRotateSecretCommand(f), newEndpointsRecoverCommand(f),
	)
	return cmd
}

func endpointRows(eps []*webhooksv1.Endpoint, p *printer) [][]string {
	rows := make([][]string, 0, len(eps))
	for _, ep := range eps {
		rows = append(rows, []string{id(ep.GetName()), ep.GetUrl(), strings.Join(ep.GetEventTypes(), ","), formatTime(ep.GetCreateTime()), p.endpointState(ep)})
	}
	return rows
}

func (p *printer) endpointState(ep *webhooksv1.Endpoint) string {
	switch ep.GetState() {
	case webhooksv1.Endpoint_ENABLED:
		return p.paint("enabled", green)
	case webhooksv1.Endpoint_DISABLED:
		return p.paint("disabled", red)
	}
	return strings.ToLower(ep.GetState().String())
}

// endpointFields shows one endpoint, its secret included when the API
// returned it (on creation).
func endpointFields(p *printer, ep *webhooksv1.Endpoint) {
	p.fields(
		[2]string{"ID", id(ep.GetName())},
		[2]string{"Account", ep.GetAccount()},
		[2]string{"URL", ep.GetUrl()},
		[2]string{"Description", ep.GetDescription()},
		[2]string{"Event types", strings.Join(ep.GetEventTypes(), ", ")},
		[2]string{"Headers", formatHeaders(ep.GetHeaders())},
		[2]string{"State", p.endpointState(ep)},
		[2]string{"Disabled reason", ep.GetDisabledReason()},
		[2]string{"Disabled", formatTime(ep.GetDisableTime())},
		[2]string{"Failing since", formatTime(ep.GetFailingSinceTime())},
		[2]string{"Created", formatTime(ep.GetCreateTime())},
		[2]string{"Updated", formatTime(ep.GetUpdateTime())},
		[2]string{"Secret", ep.GetSecret()},
	)
}

func formatHeaders(h map[string]string) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+h[k])
	}
	return strings.Join(parts, ", ")
}

// parseHeaders reads --header Name=value flags.
func parseHeaders(hs []string) (map[string]string, error) {
	if len(hs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(hs))
	for _, h := range hs {
		k, v, ok := strings.Cut(h, "=")
		if !ok || k == "" {
			return nil, usagef("--header %q: want Name=value", h)
		}
		out[k] = v
	}
	return out, nil
}

func newEndpointsListCommand(f *Factory) *cobra.Command {
	var account string
	var page pageFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List endpoints, newest first",
		Example: "  webhookctl endpoints list\n  webhookctl endpoints list --all --format json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			eps, next, err := listPages(cmd.Context(), page, func(ctx context.Context, size int32, token string) ([]*webhooksv1.Endpoint, string, error) {
				resp, err := c.Webhooks.ListEndpoints(ctx, &webhooksv1.ListEndpointsRequest{Account: optionalName("accounts", account), PageSize: size, PageToken: token})
				return resp.GetEndpoints(), resp.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			f.moreHint(next)
			return f.printer().print(&webhooksv1.ListEndpointsResponse{Endpoints: eps, NextPageToken: next}, func(p *printer) {
				p.table([]string{"ID", "URL", "EVENT TYPES", "CREATED", "STATE"}, endpointRows(eps, p))
			})
		},
	}
	accountFlag(cmd, &account)
	page.register(cmd)
	return cmd
}

// accountFlag adds --account, which internal keys need to say whose
// resources they mean.
func accountFlag(cmd *cobra.Command, account *string) {
	cmd.Flags().StringVar(account, "account", "", "the account, acct_… (needed with an internal key; a customer key's own account otherwise)")
}

func newEndpointsGetCommand(f *Factory) *cobra.Command {
	return endpointAction(f, "get", "Show an endpoint (without its secret)", "  webhookctl endpoints get ep_01jd…",
		func(cmd *cobra.Command, c *Client, name string) (*webhooksv1.Endpoint, error) {
			return c.Webhooks.GetEndpoint(cmd.Context(), &webhooksv1.GetEndpointRequest{Name: name})
		})
}

func newEndpointsEnableCommand(f *Factory) *cobra.Command {
	return endpointAction(f, "enable", "Enable an endpoint: it receives new events again", "  webhookctl endpoints enable ep_01jd…",
		func(cmd *cobra.Command, c *Client, name string) (*webhooksv1.Endpoint, error) {
			return c.Webhooks.EnableEndpoint(cmd.Context(), &webhooksv1.EnableEndpointRequest{Name: name})
		})
}

func newEndpointsDisableCommand(f *Factory) *cobra.Command {
	var reason string
	cmd := endpointAction(f, "disable", "Disable an endpoint: no new deliveries are made to it", "  webhookctl endpoints disable ep_01jd… --reason 'maintenance until Monday'",
		func(cmd *cobra.Command, c *Client, name string) (*webhooksv1.Endpoint, error) {
			return c.Webhooks.DisableEndpoint(cmd.Context(), &webhooksv1.DisableEndpointRequest{Name: name, Reason: reason})
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why, shown as the endpoint's disabled reason")
	return cmd
}

// endpointAction is a command that takes an endpoint id and prints the
// endpoint the call returns.
func endpointAction(f *Factory, use, short, example string, call func(*cobra.Command, *Client, string) (*webhooksv1.Endpoint, error)) *cobra.Command {
	return &cobra.Command{
		Use:     use + " ENDPOINT",
		Short:   short,
		Example: example,
		Args:    exactArgs("ENDPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			ep, err := call(cmd, c, resourceName("endpoints", args[0]))
			if err != nil {
				return err
			}
			return f.printer().print(ep, func(p *printer) { endpointFields(p, ep) })
		},
	}
}

func newEndpointsCreateCommand(f *Factory) *cobra.Command {
	var account, url, description string
	var eventTypes, headers []string
	cmd := &cobra.Command{
		Use:   "create --url URL --event-type TYPE[,TYPE…]",
		Short: "Register an endpoint; prints its signing secret",
		Example: `  webhookctl endpoints create --url https://example.com/webhooks/real-estate \
    --event-type property.created,property.updated --description 'CRM sync'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			ep, err := c.Webhooks.CreateEndpoint(cmd.Context(), &webhooksv1.CreateEndpointRequest{
				Account:  optionalName("accounts", account),
				Endpoint: &webhooksv1.Endpoint{Url: url, Description: description, EventTypes: eventTypes, Headers: h},
			})
			if err != nil {
				return err
			}
			return f.printer().print(ep, func(p *printer) { endpointFields(p, ep) })
		},
	}
	accountFlag(cmd, &account)
	cmd.Flags().StringVar(&url, "url", "", "where events are sent, https://…")
	cmd.Flags().StringVar(&description, "description", "", "your own note about the endpoint")
	cmd.Flags().StringSliceVar(&eventTypes, "event-type", nil, "event types to deliver, comma-separated or repeated")
	cmd.Flags().StringArrayVar(&headers, "header", nil, "extra HTTP header Name=value sent with every request (repeatable)")
	_ = cmd.MarkFlagRequired("url")
	_ = cmd.MarkFlagRequired("event-type")
	return cmd
}

func newEndpointsUpdateCommand(f *Factory) *cobra.Command {
	var url, description string
	var eventTypes, headers []string
	var clearHeaders bool
	cmd := &cobra.Command{
		Use:   "update ENDPOINT [--url URL] [--description TEXT] [--event-type TYPE…] [--header Name=value…]",
		Short: "Change an endpoint's URL, description, event types or headers",
		Example: `  webhookctl endpoints update ep_01jd… --event-type property.created,property.sold
  webhookctl endpoints update ep_01jd… --clear-headers`,
		Args: exactArgs("ENDPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			ep := &webhooksv1.Endpoint{Name: resourceName("endpoints", args[0]), Url: url, Description: description, EventTypes: eventTypes, Headers: h}
			// The mask names exactly the flags given, so that an
			// empty --description clears the description.
			var mask []string
			for flagName, field := range map[string]string{"url": "url", "description": "description", "event-type": "event_types", "header": "headers"} {
				if cmd.Flags().Changed(flagName) {
					mask = append(mask, field)
				}
			}
			if clearHeaders {
				if cmd.Flags().Changed("header") {
					return usagef("--clear-headers and --header do not go together")
				}
				mask = append(mask, "headers")
			}
			if len(mask) == 0 {
				return usagef("nothing to change: give --url, --description, --event-type, --header or --clear-headers")
			}
			sort.Strings(mask)
			c, err := f.Client()
			if err != nil {
				return err
			}
			ep, err = c.Webhooks.UpdateEndpoint(cmd.Context(), &webhooksv1.UpdateEndpointRequest{Endpoint: ep, UpdateMask: &fieldmaskpb.FieldMask{Paths: mask}})
			if err != nil {
				return err
			}
			return f.printer().print(ep, func(p *printer) { endpointFields(p, ep) })
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "new URL")
	cmd.Flags().StringVar(&description, "description", "", "new description (empty clears it)")
	cmd.Flags().StringSliceVar(&eventTypes, "event-type", nil, "new event types, replacing the old ones")
	cmd.Flags().StringArrayVar(&headers, "header", nil, "extra HTTP header Name=value, replacing the old ones (repeatable)")
	cmd.Flags().BoolVar(&clearHeaders, "clear-headers", false, "remove every extra header")
	return cmd
}

func newEndpointsDeleteCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "delete ENDPOINT",
		Short:   "Delete an endpoint with its delivery history",
		Example: "  webhookctl endpoints delete ep_01jd…",
		Args:    exactArgs("ENDPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			name := resourceName("endpoints", args[0])
			resp, err := c.Webhooks.DeleteEndpoint(cmd.Context(), &webhooksv1.DeleteEndpointRequest{Name: name})
			if err != nil {
				return err
			}
			return f.printer().print(resp, func(p *printer) { p.line("Deleted %s", name) })
		},
	}
}

func secretFields(p *printer, s *webhooksv1.EndpointSecret) {
	p.fields(
		[2]string{"Endpoint", strings.TrimSuffix(s.GetName(), "/secret")},
		[2]string{"Secret", s.GetSecret()},
		[2]string{"Previous secret", s.GetPreviousSecret()},
		[2]string{"Previous expires", formatTime(s.GetPreviousSecretExpireTime())},
	)
}

func newEndpointsSecretCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "secret ENDPOINT",
		Short: "Reveal an endpoint's signing secret",
		Example: `  webhookctl endpoints secret ep_01jd…
  export WEBHOOK_SECRET=$(webhookctl endpoints secret ep_01jd… --format json | jq -r .secret)`,
		Args: exactArgs("ENDPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			s, err := c.Webhooks.GetEndpointSecret(cmd.Context(), &webhooksv1.GetEndpointSecretRequest{Name: resourceName("endpoints", args[0]) + "/secret"})
			if err != nil {
				return err
			}
			return f.printer().print(s, func(p *printer) { secretFields(p, s) })
		},
	}
}

func newEndpointsRotateSecretCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "rotate-secret ENDPOINT",
		Short:   "Replace an endpoint's signing secret; the old one keeps signing for a grace period",
		Example: "  webhookctl endpoints rotate-secret ep_01jd…",
		Args:    exactArgs("ENDPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			s, err := c.Webhooks.RotateEndpointSecret(cmd.Context(), &webhooksv1.RotateEndpointSecretRequest{Name: resourceName("endpoints", args[0]) + "/secret"})
			if err != nil {
				return err
			}
			return f.printer().print(s, func(p *printer) { secretFields(p, s) })
		},
	}
}

func newEndpointsRecoverCommand(f *Factory) *cobra.Command {
	var since string
	cmd := &cobra.Command{
		Use:   "recover ENDPOINT --since TIME",
		Short: "Re-send an endpoint's failed deliveries created since a time",
		Example: `  webhookctl endpoints recover ep_01jd… --since 24h
  webhookctl endpoints recover ep_01jd… --since 2026-12-01T00:00:00Z`,
		Args: exactArgs("ENDPOINT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTime("since", since, f.Now())
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			resp, err := c.Webhooks.RecoverEndpoint(cmd.Context(), &webhooksv1.RecoverEndpointRequest{Name: resourceName("endpoints", args[0]), Since: t})
			if err != nil {
				return err
			}
			return f.printer().print(resp, func(p *printer) {
				p.line("Scheduled %s again", plural(int(resp.GetDeliveryCount()), "failed delivery", "failed deliveries"))
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "re-send failed deliveries created at or after this time: RFC 3339, or a duration ago (24h)")
	_ = cmd.MarkFlagRequired("since")
	return cmd
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
