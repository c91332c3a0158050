// Command webhookctl is the command line of webhookd: every resource of the
// API from a terminal, test events, and a request verifier. The commands
// live in internal/cli; see docs/webhookctl.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/webhookd/webhookd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.NewFactory(), os.Args[1:])
	stop()
	os.Exit(code)
}
