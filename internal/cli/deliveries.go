package cli

import (
	"context"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

func newDeliveriesCommand(f *Factory) *cobra.Command {
	cmd := newGroup("deliveries", "Follow the deliveries of events to endpoints, with every attempt",
		"  webhookctl deliveries list --endpoint ep_01jd… --status failed\n  webhookctl deliveries retry dlv_01jd…", "delivery")
	cmd.AddCommand(newDeliveriesListCommand(f), newDeliveriesGetCommand(f), newDeliveriesRetryCommand(f))
	return cmd
}

func (p *printer) deliveryStatus(d *webhooksv1.Delivery) string {
	s := strings.ToLower(d.GetStatus().String())
	switch d.GetStatus() {
	case webhooksv1.Delivery_SUCCEEDED:
		return p.paint(s, green)
	case webhooksv1.Delivery_FAILED:
		return p.paint(s, red)
	case webhooksv1.Delivery_PENDING:
		return p.paint(s, yellow)
	}
	return s
}

func statusCode(code int32) string {
	if code == 0 {
		return "-"
	}
	return strconv.Itoa(int(code))
}

func deliveryFields(p *printer, d *webhooksv1.Delivery) {
	p.fields(
		[2]string{"ID", id(d.GetName())},
		[2]string{"Account", d.GetAccount()},
		[2]string{"Event", id(d.GetEvent())},
		[2]string{"Event type", d.GetEventType()},
		[2]string{"Endpoint", id(d.GetEndpoint())},
		[2]string{"Status", p.deliveryStatus(d)},
		[2]string{"Attempts", strconv.Itoa(int(d.GetAttemptCount()))},
		[2]string{"Last response", statusCode(d.GetLastResponseStatusCode())},
		[2]string{"Last error", d.GetLastError()},
		[2]string{"Next attempt", formatTime(d.GetNextAttemptTime())},
		[2]string{"Created", formatTime(d.GetCreateTime())},
		[2]string{"Updated", formatTime(d.GetUpdateTime())},
	)
	if len(d.GetAttempts()) == 0 {
		return
	}
	p.line("")
	rows := make([][]string, 0, len(d.GetAttempts()))
	for _, a := range d.GetAttempts() {
		rows = append(rows, []string{
			strconv.Itoa(int(a.GetNumber())), strings.ToLower(a.GetTrigger().String()), formatTime(a.GetStartTime()),
			formatDuration(a.GetDuration()), statusCode(a.GetResponseStatusCode()), a.GetErrorMessage(),
		})
	}
	p.table([]string{"ATTEMPT", "TRIGGER", "STARTED", "DURATION", "STATUS", "ERROR"}, rows)
}

// parseStatuses reads --status pending,succeeded,failed.
func parseStatuses(vs []string) ([]webhooksv1.Delivery_Status, error) {
	var out []webhooksv1.Delivery_Status
	for _, v := range vs {
		s, ok := webhooksv1.Delivery_Status_value[strings.ToUpper(v)]
		if !ok || s == 0 {
			return nil, usagef("--status %q: want pending, succeeded or failed", v)
		}
		out = append(out, webhooksv1.Delivery_Status(s))
	}
	return out, nil
}

func newDeliveriesListCommand(f *Factory) *cobra.Command {
	var endpoint, event, after, before string
	var statuses, types []string
	var page pageFlags
	cmd := &cobra.Command{
		Use:   "list (--endpoint ENDPOINT | --event EVENT)",
		Short: "List the deliveries of an endpoint or of an event, newest first",
		Example: `  webhookctl deliveries list --endpoint ep_01jd… --status failed --after 24h
  webhookctl deliveries list --event evt_01jd…`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			parent := optionalName("endpoints", endpoint)
			if event != "" {
				parent = resourceName("events", event)
			}
			st, err := parseStatuses(statuses)
			if err != nil {
				return err
			}
			afterT, beforeT, err := parseTimeRange(after, before, f.Now())
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			ds, next, err := listPages(cmd.Context(), page, func(ctx context.Context, size int32, token string) ([]*webhooksv1.Delivery, string, error) {
				resp, err := c.Webhooks.ListDeliveries(ctx, &webhooksv1.ListDeliveriesRequest{
					Parent: parent, PageSize: size, PageToken: token,
					Statuses: st, EventTypes: types, CreateTimeAfter: afterT, CreateTimeBefore: beforeT,
				})
				return resp.GetDeliveries(), resp.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			f.moreHint(next)
			return f.printer().print(&webhooksv1.ListDeliveriesResponse{Deliveries: ds, NextPageToken: next}, func(p *printer) {
				rows := make([][]string, 0, len(ds))
				for _, d := range ds {
					other := id(d.GetEvent())
					if event != "" {
						other = id(d.GetEndpoint())
					}
					rows = append(rows, []string{id(d.GetName()), other, d.GetEventType(), strconv.Itoa(int(d.GetAttemptCount())),
						statusCode(d.GetLastResponseStatusCode()), formatTime(d.GetCreateTime()), p.deliveryStatus(d)})
				}
				column := "EVENT"
				if event != "" {
					column = "ENDPOINT"
				}
				p.table([]string{"ID", column, "TYPE", "ATTEMPTS", "RESPONSE", "CREATED", "STATUS"}, rows)
			})
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "the endpoint whose deliveries to list, ep_…")
	cmd.Flags().StringVar(&event, "event", "", "the event whose deliveries to list, evt_…")
	cmd.MarkFlagsMutuallyExclusive("endpoint", "event")
	cmd.MarkFlagsOneRequired("endpoint", "event")
	cmd.Flags().StringSliceVar(&statuses, "status", nil, "only these statuses: pending, succeeded, failed")
	cmd.Flags().StringSliceVar(&types, "type", nil, "only deliveries of events of these types")
	cmd.Flags().StringVar(&after, "after", "", "only deliveries created after this time: RFC 3339, or a duration ago (24h)")
	cmd.Flags().StringVar(&before, "before", "", "only deliveries created before this time: RFC 3339, or a duration ago")
	page.register(cmd)
	return cmd
}

func deliveryAction(f *Factory, use, short, example string, call func(*cobra.Command, *Client, string) (*webhooksv1.Delivery, error)) *cobra.Command {
	return &cobra.Command{
		Use:     use + " DELIVERY",
		Short:   short,
		Example: example,
		Args:    exactArgs("DELIVERY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			d, err := call(cmd, c, resourceName("deliveries", args[0]))
			if err != nil {
				return err
			}
			return f.printer().print(d, func(p *printer) { deliveryFields(p, d) })
		},
	}
}

func newDeliveriesGetCommand(f *Factory) *cobra.Command {
	return deliveryAction(f, "get", "Show a delivery with every attempt", "  webhookctl deliveries get dlv_01jd…",
		func(cmd *cobra.Command, c *Client, name string) (*webhooksv1.Delivery, error) {
			return c.Webhooks.GetDelivery(cmd.Context(), &webhooksv1.GetDeliveryRequest{Name: name})
		})
}

func newDeliveriesRetryCommand(f *Factory) *cobra.Command {
	return deliveryAction(f, "retry", "Attempt a delivery again now, whatever its status", "  webhookctl deliveries retry dlv_01jd…",
		func(cmd *cobra.Command, c *Client, name string) (*webhooksv1.Delivery, error) {
			return c.Webhooks.RetryDelivery(cmd.Context(), &webhooksv1.RetryDeliveryRequest{Name: name})
		})
}
