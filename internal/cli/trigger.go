package cli

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

func newTriggerCommand(f *Factory) *cobra.Command {
	var endpoint, account, data string
	var sets []string
	cmd := &cobra.Command{
		Use:   "trigger EVENT_TYPE [--endpoint ENDPOINT] [--data JSON|@FILE|-] [--set PATH=VALUE…]",
		Short: "Send a test event and show how the endpoint answered",
		Long: `trigger sends a test event of EVENT_TYPE, signed like every other request and
recorded in the delivery history with trigger "test", and waits for the
endpoint's answer. The payload is the type's example data (see
'webhookctl event-types get'), or --data, changed by each --set.

Without --endpoint the event goes to every enabled endpoint of the account
that subscribes to EVENT_TYPE. The exit status is 1 when an endpoint did not
answer with a 2xx.`,
		Example: `  webhookctl trigger property.created --endpoint ep_01jd…
  webhookctl trigger property.created --set data.property.price=1 --set data.property.address.city=Lyon
  webhookctl trigger appointment.scheduled --data @appointment.json`,
		Args: exactArgs("EVENT_TYPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			eventType := strings.TrimPrefix(args[0], "eventTypes/")
			var custom *structpb.Struct
			if data != "" {
				var err error
				if custom, err = readData("data", data, f.In); err != nil {
					return err
				}
			}
			c, err := f.Client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			payload := custom
			if payload == nil {
				t, err := c.Webhooks.GetEventType(ctx, &webhooksv1.GetEventTypeRequest{Name: "eventTypes/" + eventType})
				if err != nil {
					return err
				}
				payload = t.GetExample().GetFields()["data"].GetStructValue()
				if payload == nil {
					payload = &structpb.Struct{}
				}
			}
			if payload, err = applySets(payload, sets); err != nil {
				return err
			}
			targets := []string{optionalName("endpoints", endpoint)}
			if endpoint == "" {
				if targets, err = subscribedEndpoints(ctx, c, optionalName("accounts", account), eventType); err != nil {
					return err
				}
			}
			results := make([]*webhooksv1.SendTestEventResponse, 0, len(targets))
			for _, name := range targets {
				resp, err := c.Webhooks.SendTestEvent(ctx, &webhooksv1.SendTestEventRequest{Endpoint: name, EventType: eventType, Data: payload, Wait: true})
				if err != nil {
					return err
				}
				results = append(results, resp)
			}
			if err := printTriggerResults(f.printer(), results); err != nil {
				return err
			}
			failed := 0
			for _, r := range results {
				if code := r.GetAttempt().GetResponseStatusCode(); code < 200 || code > 299 {
					failed++
				}
			}
			if failed > 0 {
				return fmt.Errorf("%s of %d did not answer with a 2xx in time", plural(failed, "endpoint", "endpoints"), len(results))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "the endpoint to send to, ep_… (default: every enabled endpoint subscribed to the type)")
	accountFlag(cmd, &account)
	cmd.Flags().StringVar(&data, "data", "", "the payload instead of the type's example: a JSON object inline, @file.json, or - for standard input")
	cmd.Flags().StringArrayVar(&sets, "set", nil, "set one field of the payload, path=value (JSON value, or a string), repeatable")
	return cmd
}

// subscribedEndpoints names the enabled endpoints of the account that
// receive eventType.
func subscribedEndpoints(ctx context.Context, c *Client, account, eventType string) ([]string, error) {
	eps, _, err := listPages(ctx, pageFlags{all: true, size: 1000}, func(ctx context.Context, size int32, token string) ([]*webhooksv1.Endpoint, string, error) {
		resp, err := c.Webhooks.ListEndpoints(ctx, &webhooksv1.ListEndpointsRequest{Account: account, PageSize: size, PageToken: token})
		return resp.GetEndpoints(), resp.GetNextPageToken(), err
	})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ep := range eps {
		if ep.GetState() == webhooksv1.Endpoint_ENABLED && slices.Contains(ep.GetEventTypes(), eventType) {
			names = append(names, ep.GetName())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no enabled endpoint subscribes to %s: give --endpoint, or create one with 'webhookctl endpoints create'", eventType)
	}
	return names, nil
}

// printTriggerResults prints one row per endpoint, or one JSON document
// {"results": [SendTestEventResponse…]}.
func printTriggerResults(p *printer, results []*webhooksv1.SendTestEventResponse) error {
	if p.json {
		var b bytes.Buffer
		b.WriteString(`{"results":[`)
		for i, r := range results {
			if i > 0 {
				b.WriteByte(',')
			}
			one, err := marshalJSON(r)
			if err != nil {
				return err
			}
			b.Write(one)
		}
		b.WriteString("]}")
		out, err := indentJSON(b.Bytes())
		if err != nil {
			return err
		}
		_, err = p.out.Write(out)
		return err
	}
	rows := make([][]string, 0, len(results))
	for _, r := range results {
		a := r.GetAttempt()
		result := p.paint("succeeded", green)
		switch {
		case a == nil:
			result = p.paint("pending", yellow)
		case a.GetErrorMessage() != "":
			result = p.paint(a.GetErrorMessage(), red)
		}
		rows = append(rows, []string{id(r.GetDelivery().GetEndpoint()), r.GetEvent().GetType(), id(r.GetEvent().GetName()),
			id(r.GetDelivery().GetName()), statusCode(a.GetResponseStatusCode()), formatDuration(a.GetDuration()), result})
	}
	p.table([]string{"ENDPOINT", "TYPE", "EVENT", "DELIVERY", "RESPONSE", "DURATION", "RESULT"}, rows)
	return nil
}
