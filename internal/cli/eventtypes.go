package cli

import (
	"strings"

	"github.com/spf13/cobra"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

func newEventTypesCommand(f *Factory) *cobra.Command {
	cmd := newGroup("event-types", "List the catalog of event types and their example payloads",
		"  webhookctl event-types list\n  webhookctl event-types get property.created", "event-type")
	cmd.AddCommand(newEventTypesListCommand(f), newEventTypesGetCommand(f))
	return cmd
}

func newEventTypesListCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the event types endpoints can subscribe to",
		Example: "  webhookctl event-types list\n  webhookctl event-types list --format json | jq -r '.eventTypes[].type'",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			resp, err := c.Webhooks.ListEventTypes(cmd.Context(), &webhooksv1.ListEventTypesRequest{})
			if err != nil {
				return err
			}
			return f.printer().print(resp, func(p *printer) {
				rows := make([][]string, 0, len(resp.GetEventTypes()))
				for _, t := range resp.GetEventTypes() {
					rows = append(rows, []string{t.GetType(), t.GetDescription()})
				}
				p.table([]string{"TYPE", "DESCRIPTION"}, rows)
			})
		},
	}
}

func newEventTypesGetCommand(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "get TYPE",
		Short:   "Show an event type with its example body",
		Example: "  webhookctl event-types get property.created",
		Args:    exactArgs("TYPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.Client()
			if err != nil {
				return err
			}
			t, err := c.Webhooks.GetEventType(cmd.Context(), &webhooksv1.GetEventTypeRequest{Name: resourceName("eventTypes", args[0])})
			if err != nil {
				return err
			}
			return f.printer().print(t, func(p *printer) {
				p.fields([2]string{"Type", t.GetType()}, [2]string{"Description", t.GetDescription()})
				example, err := marshalJSON(t.GetExample())
				if err == nil {
					p.line("Example:\n%s", strings.TrimRight(indentLines(string(example), "  "), "\n"))
				}
			})
		},
	}
}

// indentLines puts prefix before every line of s.
func indentLines(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" && l != "\n" {
			b.WriteString(prefix)
		}
		b.WriteString(l)
	}
	return b.String()
}
