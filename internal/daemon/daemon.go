// Package daemon runs the webhookd binary as a child process on loopback, for
// the commands that measure or shake a real installation from outside:
// webhookd-bench (make bench) and webhookd-chaos (make chaos). Both need the
// same things of a process — free listen addresses, an admin token, a log
// file, readiness, a gRPC connection — and chaos also needs to SIGKILL one
// and start it again on the same addresses, so that clients reconnect to it
// as they would to a restarted production process.
//
// The tests of package internal/crashtest do the same inside go test, with
// testing.T plumbing this package does not have.
package daemon

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
)

// Config says how to start webhookd.
type Config struct {
	// Binary is the path of the webhookd binary.
	Binary string
	// Args are webhookd's flags beyond --http-addr and --grpc-addr, which
	// Start chooses.
	Args []string
	// LogPath receives webhookd's stdout and stderr, appended across
	// restarts.
	LogPath string
	// ReadyTimeout bounds the wait for /readyz; zero means 60 s.
	ReadyTimeout time.Duration
}

// Validate reports a Config Start cannot use.
func (c *Config) Validate() error {
	var errs []error
	if c.Binary == "" {
		errs = append(errs, errors.New("daemon: Binary is required"))
	}
	if c.LogPath == "" {
		errs = append(errs, errors.New("daemon: LogPath is required"))
	}
	if c.ReadyTimeout < 0 {
		errs = append(errs, errors.New("daemon: ReadyTimeout must not be negative"))
	}
	return errors.Join(errs...)
}

// Process is one webhookd child process. Its addresses, token and gRPC
// clients stay the same across Kill and Restart. Methods are safe for
// concurrent use.
type Process struct {
	cfg      Config
	HTTPAddr string
	GRPCAddr string
	// Token is the admin token webhookd accepts (WEBHOOKD_ADMIN_TOKEN).
	Token    string
	Conn     *grpc.ClientConn
	Webhooks webhooksv1.WebhookServiceClient
	Admin    webhooksv1.AdminServiceClient

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
}

// encryptionKeys encrypt endpoint secrets at rest in every process started
// here: PostgreSQL requires keys, and processes sharing a database must share
// them. A --encryption-keys in Config.Args wins over it.
var encryptionKeys = func() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return "daemon:" + base64.StdEncoding.EncodeToString(key)
}()

// FreeAddr returns a loopback address nothing listens on right now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start starts webhookd on free loopback addresses with a random admin
// token, and waits until /readyz answers 200.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	httpAddr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	grpcAddr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	p := &Process{
		cfg:      cfg,
		HTTPAddr: httpAddr,
		GRPCAddr: grpcAddr,
		Token:    "whk_daemon_" + hex.EncodeToString(secret),
	}
	if err := p.Restart(ctx); err != nil {
		return nil, err
	}
	p.Conn, err = grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		p.Stop()
		return nil, err
	}
	p.Webhooks = webhooksv1.NewWebhookServiceClient(p.Conn)
	p.Admin = webhooksv1.NewAdminServiceClient(p.Conn)
	return p, nil
}

// Restart starts the process again, on the same addresses and with the same
// flags, after it exited or was killed, and waits until it is ready. Start
// uses it for the first start too.
func (p *Process) Restart(ctx context.Context) error {
	p.mu.Lock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			p.mu.Unlock()
			return errors.New("daemon: restart of a process that is still running")
		}
	}
	logFile, err := os.OpenFile(p.cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	defer logFile.Close()
	args := append([]string{"--http-addr=" + p.HTTPAddr, "--grpc-addr=" + p.GRPCAddr}, p.cfg.Args...)
	cmd := exec.Command(p.cfg.Binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(cleanEnv(), "WEBHOOKD_ADMIN_TOKEN="+p.Token, "WEBHOOKD_ENCRYPTION_KEYS="+encryptionKeys)
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("starting %s: %w", p.cfg.Binary, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.exitErr = cmd, exited, nil
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		if p.cmd == cmd {
			p.exitErr = err
		}
		p.mu.Unlock()
		close(exited)
	}()
	p.mu.Unlock()
	if err := p.waitReady(ctx, exited); err != nil {
		p.Stop()
		return err
	}
	return nil
}

// cleanEnv is this process's environment without WEBHOOKD_* settings, so
// that only the flags configure webhookd.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WEBHOOKD_") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *Process) waitReady(ctx context.Context, exited <-chan struct{}) error {
	deadline := time.Now().Add(p.cfg.ReadyTimeout)
	url := "http://" + p.HTTPAddr + "/readyz"
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("webhookd exited during start (%v); its log:\n%s", p.ExitErr(), p.LogTail(40))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("webhookd not ready within %s; its log:\n%s", p.cfg.ReadyTimeout, p.LogTail(40))
		}
	}
}

// Exited is closed when the current process exits.
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// ExitErr is how the current process exited (nil while it runs).
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// PID is the current process's id.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// LogTail is the end of webhookd's log, for error messages.
func (p *Process) LogTail(lines int) string {
	b, err := os.ReadFile(p.cfg.LogPath)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// Authed adds the admin token to ctx for gRPC calls.
func (p *Process) Authed(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+p.Token)
}

// PeakRSS is the current process's peak resident set size (VmHWM), in
// bytes.
func (p *Process) PeakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.PID()))
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

// Kill sends SIGKILL, as a crash would, and waits until the process is gone.
func (p *Process) Kill() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-exited
	return nil
}

// Stop asks webhookd to shut down (SIGTERM), and kills it if it takes more
// than 40 s. It leaves the gRPC connection open for a Restart; Close closes
// both.
func (p *Process) Stop() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(40 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Close stops the process and closes the gRPC connection.
func (p *Process) Close() {
	if p.Conn != nil {
		_ = p.Conn.Close()
	}
	p.Stop()
}
