package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

func newEventsCommand(f *Factory) *cobra.Command {
	cmd := newGroup("events", "Publish events and fetch the ones an endpoint missed",
		"  webhookctl events publish --type property.created --data @property.json\n  webhookctl events list --type property.created --after 24h", "event")
	cmd.AddCommand(newEventsPublishCommand(f), newEventsListCommand(f), newEventsGetCommand(f))
	return cmd
}

func eventFields(p *printer, e *webhooksv1.Event) {
	data, _ := marshalJSON(e.GetData())
	test := ""
	if e.GetTest() {
		test = "yes"
	}
	p.fields(
		[2]string{"ID", id(e.GetName())},
		[2]string{"Account", e.GetAccount()},
		[2]string{"Type", e.GetType()},
		[2]string{"Created", formatTime(e.GetCreateTime())},
		[2]string{"Idempotency key", e.GetIdempotencyKey()},
		[2]string{"Test", test},
	)
	p.line("Data:\n%s", strings.TrimRight(indentLines(string(data), "  "), "\n"))
}

func newEventsPublishCommand(f *Factory) *cobra.Command {
	var account, eventType, data, idempotencyKey string
	var sets []string
	cmd := &cobra.Command{
		Use:   "publish --type TYPE [--data JSON|@FILE|-] [--set PATH=VALUE…]",
		Short: "Publish an event to every subscribed endpoint of its account",
		Example: `  webhookctl events publish --type property.created --data @property.json --idempotency-key prop-123
  echo '{"property":{"id":"prop_1"}}' | webhookctl events publish --type property.updated --data -
  webhookctl events publish --type property.sold --data '{}' --set property.price=450000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			payload := &structpb.Struct{Fields: map[string]*structpb.Value{}}
			if data != "" {
				var err error
				if payload, err = readData("data", data, f.In); err != nil {
					return err
				}
			}
			payload, err := applySets(payload, sets)
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			e, err := c.Webhooks.PublishEvent(cmd.Context(), &webhooksv1.PublishEventRequest{
				Account:        optionalName("accounts", account),
				Event:          &webhooksv1.Event{Type: eventType, Data: payload},
				IdempotencyKey: idempotencyKey,
			})
			if err != nil {
				return err
			}
			return f.printer().print(e, func(p *printer) { eventFields(p, e) })
		},
	}
	accountFlag(cmd, &account)
	cmd.Flags().StringVar(&eventType, "type", "", "the event type, e.g. property.created")
	cmd.Flags().StringVar(&data, "data", "", "the payload, a JSON object: inline, @file.json, or - for standard input")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "set one field of the payload, path=value (JSON value, or a string), repeatable")
	cmd.Flags().StringVar(&idempotencyKey, "idempotency-key", "", "publishing again with this key returns the first event instead of a second one")
	_ = cmd.MarkFlagRequired("type")
	return cmd
}

func newEventsListCommand(f *Factory) *cobra.Command {
	var account, after, before, afterEvent string
	var types []string
	var page pageFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List events, newest first, filtered by type and time",
		Example: `  webhookctl events list --type property.created --after 24h
  webhookctl events list --after-event evt_01jd… --all --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			afterT, beforeT, err := parseTimeRange(after, before, f.Now())
			if err != nil {
				return err
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			events, next, err := listPages(cmd.Context(), page, func(ctx context.Context, size int32, token string) ([]*webhooksv1.Event, string, error) {
				resp, err := c.Webhooks.ListEvents(ctx, &webhooksv1.ListEventsRequest{
					Account: optionalName("accounts", account), PageSize: size, PageToken: token,
					EventTypes: types, CreateTimeAfter: afterT, CreateTimeBefore: beforeT,
					AfterEvent: optionalName("events", afterEvent),
				})
				return resp.GetEvents(), resp.GetNextPageToken(), err
			})
			if err != nil {
				return err
			}
			f.moreHint(next)
			return f.printer().print(&webhooksv1.ListEventsResponse{Events: events, NextPageToken: next}, func(p *printer) {
				rows := make([][]string, 0, len(events))
				for _, e := range events {
					test := "no"
					if e.GetTest() {
						test = "yes"
					}
					rows = append(rows, []string{id(e.GetName()), e.GetType(), formatTime(e.GetCreateTime()), test})
				}
				p.table([]string{"ID", "TYPE", "CREATED", "TEST"}, rows)
			})
		},
	}
	accountFlag(cmd, &account)
	cmd.Flags().StringSliceVar(&types, "type", nil, "only events of these types, comma-separated or repeated")
	cmd.Flags().StringVar(&after, "after", "", "only events created after this time: RFC 3339, or a duration ago (24h)")
	cmd.Flags().StringVar(&before, "before", "", "only events created before this time: RFC 3339, or a duration ago")
	cmd.Flags().StringVar(&afterEvent, "after-event", "", "only events published after this one, evt_… (a cursor no two events share)")
	page.register(cmd)
	return cmd
}

func newEventsGetCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "get EVENT",
		Short:   "Show an event with its data",
		Example: "  webhookctl events get evt_01jd…",
		Args:    exactArgs("EVENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			e, err := c.Webhooks.GetEvent(cmd.Context(), &webhooksv1.GetEventRequest{Name: resourceName("events", args[0])})
			if err != nil {
				return err
			}
			return f.printer().print(e, func(p *printer) { eventFields(p, e) })
		},
	}
}
