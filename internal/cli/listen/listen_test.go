package listen_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/cli/listen"
)

// TestForwardToMustBeLocal: deliveries are signed with the endpoint's
// secret, so webhookctl replays them to this machine only, unless told
// otherwise, and says so before connecting.
func TestForwardToMustBeLocal(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, forwardTo string
		allowRemote     bool
		ok              bool
	}{
		{"localhost", "http://localhost:3000/webhooks/real-estate", false, true},
		{"LocalhostSubdomain", "http://app.localhost:3000/hooks", false, true},
		{"IPv4Loopback", "http://127.0.0.1:3000/hooks", false, true},
		{"OtherIPv4Loopback", "https://127.8.0.1/hooks", false, true},
		{"IPv6Loopback", "http://[::1]:3000/hooks", false, true},
		{"RemoteHost", "https://example.com/hooks", false, false},
		{"PrivateAddress", "http://192.168.1.20:3000/hooks", false, false},
		{"LocalhostLookalike", "http://localhost.example.com/hooks", false, false},
		{"RemoteAllowed", "https://example.com/hooks", true, true},
		{"NotHTTP", "ftp://localhost/hooks", false, false},
		{"Relative", "/webhooks", false, false},
		{"Missing", "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			called := false
			cmd := listen.NewCommand(listen.Deps{
				Client: func() (webhooksv1.WebhookServiceClient, error) {
					called = true
					return nil, errors.New("stop here")
				},
				Out: io.Discard, Err: io.Discard,
			})
			args := []string{"--forward-to=" + c.forwardTo}
			if c.allowRemote {
				args = append(args, "--allow-remote-forward")
			}
			cmd.SetArgs(args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			var usage *listen.UsageError
			switch {
			case c.ok && !called:
				t.Fatalf("--forward-to %q refused: %v", c.forwardTo, err)
			case !c.ok && (called || !errors.As(err, &usage)):
				t.Fatalf("--forward-to %q: connected=%v, err=%v; want a usage error before connecting", c.forwardTo, called, err)
			case !c.ok && c.forwardTo != "" && !strings.Contains(err.Error(), c.forwardTo):
				t.Fatalf("the error %q does not name the URL", err)
			}
		})
	}
}

// TestPrintSecretNeedsNoForwardTo: --print-secret alone is a valid command.
func TestPrintSecretNeedsNoForwardTo(t *testing.T) {
	t.Parallel()
	if err := (&listen.Options{PrintSecret: true}).Validate(); err != nil {
		t.Fatal(err)
	}
}
