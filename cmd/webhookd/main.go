// Command webhookd runs the webhook delivery service. With no flags it keeps
// its data in ./webhookd-data (SQLite) and its schedule in an in-process
// Redis-protocol server, listening on loopback: see the README's quickstart.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/webhookd/webhookd/internal/app"
)

func main() {
	os.Exit(run())
}

func run() int {
	cfg, err := app.ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "webhookd: configuration: %v\n", err)
		return 2
	}
	logger := app.NewLogger(cfg, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var notice io.Writer = os.Stderr
	if cfg.LogFormat == "json" {
		notice = nil // keep stderr a pure JSON stream: the token is logged
	}
	a, err := app.New(ctx, cfg, logger, notice)
	if err != nil {
		logger.Error("start failed", "error", err)
		return 1
	}
	if err := a.Run(ctx); err != nil {
		logger.Error("serve failed", "error", err)
		return 1
	}
	return 0
}
