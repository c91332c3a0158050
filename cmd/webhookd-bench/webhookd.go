package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/daemon"
)

// daemonConfig says how to start the webhookd under measurement.
type daemonConfig struct {
	Binary      string
	DatabaseURL string // empty: embedded SQLite in DataDir
	RedisURL    string // empty: embedded Redis-protocol server
	DataDir     string // fresh, removed by the caller
	Workers     int
	PerEndpoint int
	ExtraArgs   []string
}

// startDaemon starts webhookd with the loopback receiver allowed and waits
// until /readyz answers.
func startDaemon(ctx context.Context, cfg daemonConfig) (*daemon.Process, error) {
	args := []string{
		"--data-dir=" + cfg.DataDir,
		"--allow-http-endpoints",
		"--allow-cidr=127.0.0.0/8",
		"--workers=" + strconv.Itoa(cfg.Workers),
		"--endpoint-concurrency=" + strconv.Itoa(cfg.PerEndpoint),
		"--log-level=warn",
	}
	if cfg.DatabaseURL != "" {
		args = append(args, "--database-url="+cfg.DatabaseURL)
	}
	if cfg.RedisURL != "" {
		args = append(args, "--redis-url="+cfg.RedisURL)
	}
	args = append(args, cfg.ExtraArgs...)
	return daemon.Start(ctx, daemon.Config{
		Binary:  cfg.Binary,
		Args:    args,
		LogPath: filepath.Join(cfg.DataDir, "webhookd.log"),
	})
}

// setupAccount creates an account and one endpoint per URL, all subscribed
// to eventType, and returns the account's name.
func setupAccount(ctx context.Context, d *daemon.Process, urls []string, eventType string) (string, error) {
	ctx = d.Authed(ctx)
	acct, err := d.Admin.CreateAccount(ctx, &webhooksv1.CreateAccountRequest{
		Account: &webhooksv1.Account{DisplayName: "webhookd-bench"},
	})
	if err != nil {
		return "", fmt.Errorf("creating the account: %w", err)
	}
	for _, u := range urls {
		_, err := d.Webhooks.CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{
			Account:  acct.GetName(),
			Endpoint: &webhooksv1.Endpoint{Url: u, EventTypes: []string{eventType}},
		})
		if err != nil {
			return "", fmt.Errorf("creating endpoint %s: %w", u, err)
		}
	}
	return acct.GetName(), nil
}
