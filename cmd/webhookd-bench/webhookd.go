package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// daemon is a webhookd process under test.
type daemon struct {
	cmd      *exec.Cmd
	exited   chan struct{}
	exitErr  error
	logPath  string
	httpAddr string
	grpcAddr string
	token    string
	conn     *grpc.ClientConn
	webhooks webhooksv1.WebhookServiceClient
	admin    webhooksv1.AdminServiceClient
}

// daemonConfig says how to start webhookd.
type daemonConfig struct {
	Binary      string
	DatabaseURL string // empty: embedded SQLite in DataDir
	RedisURL    string // empty: embedded Redis-protocol server
	DataDir     string // fresh, removed by the caller
	Workers     int
	PerEndpoint int
	ExtraArgs   []string
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startDaemon starts webhookd with the loopback receiver allowed and waits
// until /readyz answers.
func startDaemon(ctx context.Context, cfg daemonConfig) (*daemon, error) {
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	grpcAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	d := &daemon{
		httpAddr: httpAddr,
		grpcAddr: grpcAddr,
		token:    "whk_bench_" + hex.EncodeToString(secret),
		logPath:  filepath.Join(cfg.DataDir, "webhookd.log"),
		exited:   make(chan struct{}),
	}
	args := []string{
		"--http-addr=" + httpAddr,
		"--grpc-addr=" + grpcAddr,
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
	logFile, err := os.Create(d.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	d.cmd = exec.Command(cfg.Binary, args...)
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	d.cmd.Env = append(cleanEnv(), "WEBHOOKD_ADMIN_TOKEN="+d.token)
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cfg.Binary, err)
	}
	go func() {
		d.exitErr = d.cmd.Wait()
		close(d.exited)
	}()
	if err := d.waitReady(ctx, 60*time.Second); err != nil {
		d.stop()
		return nil, err
	}
	d.conn, err = grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		d.stop()
		return nil, err
	}
	d.webhooks = webhooksv1.NewWebhookServiceClient(d.conn)
	d.admin = webhooksv1.NewAdminServiceClient(d.conn)
	return d, nil
}

// cleanEnv is this process's environment without WEBHOOKD_* settings, so
// that only the flags above configure webhookd.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEBHOOKD_") {
			env = append(env, kv)
		}
	}
	return env
}

func (d *daemon) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	url := "http://" + d.httpAddr + "/readyz"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.exited:
			return fmt.Errorf("webhookd exited during start (%v); its log:\n%s", d.exitErr, d.logTail(40))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("webhookd not ready within %s; its log:\n%s", timeout, d.logTail(40))
		}
	}
}

// logTail is the end of webhookd's log, for error messages.
func (d *daemon) logTail(lines int) string {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// authed adds the admin token to ctx for gRPC calls.
func (d *daemon) authed(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+d.token)
}

// setupAccount creates an account and one endpoint per URL, all subscribed
// to eventType, and returns the account's name.
func (d *daemon) setupAccount(ctx context.Context, urls []string, eventType string) (string, error) {
	ctx = d.authed(ctx)
	acct, err := d.admin.CreateAccount(ctx, &webhooksv1.CreateAccountRequest{
		Account: &webhooksv1.Account{DisplayName: "webhookd-bench"},
	})
	if err != nil {
		return "", fmt.Errorf("creating the account: %w", err)
	}
	for _, u := range urls {
		_, err := d.webhooks.CreateEndpoint(ctx, &webhooksv1.CreateEndpointRequest{
			Account:  acct.GetName(),
			Endpoint: &webhooksv1.Endpoint{Url: u, EventTypes: []string{eventType}},
		})
		if err != nil {
			return "", fmt.Errorf("creating endpoint %s: %w", u, err)
		}
	}
	return acct.GetName(), nil
}

// peakRSS is the process's peak resident set size (VmHWM), in bytes.
func (d *daemon) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// stop asks webhookd to shut down, and kills it if it takes too long.
func (d *daemon) stop() {
	if d.conn != nil {
		_ = d.conn.Close()
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(40 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
}
