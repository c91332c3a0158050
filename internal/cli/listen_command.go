package cli

import (
	"github.com/spf13/cobra"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/cli/listen"
)

// newListenCommand is `webhookctl listen` (package listen) on the root's
// connection settings and --format. It runs until interrupted, so the
// root's --timeout does not apply to it.
func newListenCommand(f *Factory) *cobra.Command {
	cmd := listen.NewCommand(listen.Deps{
		Client: func() (webhooksv1.WebhookServiceClient, error) {
			c, err := f.Client()
			if err != nil {
				return nil, err
			}
			return c.Webhooks, nil
		},
		JSON: func() bool { return f.flags.format == formatJSON },
		Out:  f.Out,
		Err:  f.Err,
	})
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[noTimeoutAnnotation] = "true"
	return cmd
}
