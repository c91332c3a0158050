package listen

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// Deps is what the listen command takes from webhookctl's root command.
type Deps struct {
	// Client returns the API client, connected and authenticated with the
	// root's connection settings (--server, --api-key, profiles, TLS). Its
	// calls must not be bounded by a per-call timeout: a listen stream
	// lasts as long as the command.
	Client func() (webhooksv1.WebhookServiceClient, error)
	// JSON reports whether the root's --format asks for json.
	JSON func() bool
	// Out receives the lines, Err the reconnection notices.
	Out, Err io.Writer
}

// NewCommand returns `webhookctl listen`. A bad command line is returned as
// a *UsageError, which webhookctl exits with status 2 for.
func NewCommand(deps Deps) *cobra.Command {
	var (
		opts   Options
		events string
	)
	cmd := &cobra.Command{
		Use:   "listen --forward-to URL",
		Short: "Forward your development endpoint's deliveries to a local server",
		Long: `Receives the deliveries of your account's development endpoint (created on
first use, with a signing secret that stays the same across runs) over a
connection webhookctl opens to webhookd, and replays each one to a local URL
with the same headers and body, so your server's signature check works
unchanged. Your server's answer is recorded as the attempt: a failure is
retried on the endpoint's schedule, as for any endpoint.

It prints one line per request in and out, reconnects by itself when the
connection drops, and ends with Ctrl-C. Deliveries made while no listener is
connected are retried on schedule, none lost. Several listeners of one
endpoint share its deliveries.`,
		Example: `  # Forward to the Express app of the guide; set its WEBHOOK_SECRET first:
  export WEBHOOK_SECRET=$(webhookctl listen --print-secret)
  webhookctl listen --forward-to http://localhost:3000/webhooks/real-estate

  # Only some event types, one JSON object per line:
  webhookctl listen --forward-to http://localhost:3000/webhooks --events property.created,property.sold --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events != "" {
				for _, t := range strings.Split(events, ",") {
					if t = strings.TrimSpace(t); t != "" {
						opts.Events = append(opts.Events, t)
					}
				}
			}
			opts.JSON = deps.JSON != nil && deps.JSON()
			opts.Out, opts.Err = deps.Out, deps.Err
			if err := opts.Validate(); err != nil {
				return err
			}
			client, err := deps.Client()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.WithoutCancel(cmd.Context()), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return Run(ctx, client, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.ForwardTo, "forward-to", "", "the local URL to replay deliveries to, e.g. http://localhost:3000/webhooks/real-estate")
	fl.StringVar(&opts.Endpoint, "endpoint", "", "a development endpoint to listen to (ep_…); default: your account's own")
	fl.StringVar(&events, "events", "", "comma-separated event types the development endpoint subscribes to (default: its current ones; all for a new one)")
	fl.BoolVar(&opts.PrintSecret, "print-secret", false, "print the endpoint's signing secret and exit")
	fl.BoolVar(&opts.AllowRemoteForward, "allow-remote-forward", false, "allow a --forward-to that is not on this machine")
	fl.DurationVar(&opts.Timeout, "forward-timeout", 5*time.Second, "how long the local server has to answer, as webhookd allows a real endpoint")
	return cmd
}
