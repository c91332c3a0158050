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
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/webhookd/webhookd/internal/app"
	"github.com/webhookd/webhookd/internal/version"
)

func main() {
	os.Exit(run())
}

func run() int {
	gcSettingsFor(os.Getenv).apply() // gc.go
	cfg, err := app.ParseConfig(os.Args[1:], os.Getenv, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, app.ErrVersion):
		fmt.Println("webhookd", version.String())
		return 0
	case err != nil:
		// One line per problem, each naming its --flag (WEBHOOKD_FLAG).
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(os.Stderr, "webhookd: configuration: %s\n", line)
		}
		// A misspelt variable is often why a setting is missing or wrong.
		warnUnknownEnv(app.NewLogger(app.Config{LogLevel: slog.LevelInfo, LogFormat: "text"}, os.Stderr))
		return 2
	}
	logger := app.NewLogger(cfg, os.Stderr)
	warnUnknownEnv(logger)
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

// warnUnknownEnv logs every WEBHOOKD_* variable webhookd does not read.
func warnUnknownEnv(logger *slog.Logger) {
	for _, v := range app.UnknownEnv(os.Environ()) {
		args := []any{"name", v.Name}
		if v.Suggestion != "" {
			args = append(args, "did_you_mean", v.Suggestion)
		}
		logger.Warn("ignoring an environment variable that is no webhookd setting", args...)
	}
}
