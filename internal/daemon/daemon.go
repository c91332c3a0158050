// Package daemon runs the webhookd binary as a child process on loopback, for
// what measures or shakes a real installation from outside: webhookd-bench
// (make bench), webhookd-chaos (make chaos), the crash tests of package
// internal/crashtest and the end-to-end tests of the dashboard and the SDKs.
// All need the same things of a process — free listen addresses, an admin
// token, a log file, readiness, a gRPC connection — and chaos and the crash
// tests also SIGKILL one and start it again on the same addresses, so that
// clients reconnect to it as they would to a restarted production process.
package daemon

import (
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
	// logStart is the size of the log when the current process started:
	// what it wrote begins there.
	logStart int64
}

// errAddrInUse is why a start failed when webhookd could not bind an address
// FreeAddr found free: another process took it in between.
var errAddrInUse = errors.New("a listen address was taken")

// startTries bounds the starts on fresh addresses after errAddrInUse.
const startTries = 4

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
// token, and waits until /readyz answers 200. An address taken by another
// process between FreeAddr and webhookd's bind is retried on fresh ones.
func Start(ctx context.Context, cfg Config) (*Process, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	p := &Process{cfg: cfg, Token: "whk_daemon_" + hex.EncodeToString(secret)}
	for try := 1; ; try++ {
		var err error
		if p.HTTPAddr, err = FreeAddr(); err != nil {
			return nil, err
		}
		if p.GRPCAddr, err = FreeAddr(); err != nil {
			return nil, err
		}
		err = p.Restart(ctx)
		if err == nil {
			break
		}
		if try == startTries || !errors.Is(err, errAddrInUse) {
			return nil, err
		}
	}
	var err error
	p.Conn, err = grpc.NewClient(p.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
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
	info, err := logFile.Stat()
	if err != nil {
		p.mu.Unlock()
		return err
	}
	args := append([]string{"--http-addr=" + p.HTTPAddr, "--grpc-addr=" + p.GRPCAddr}, p.cfg.Args...)
	cmd := exec.Command(p.cfg.Binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(cleanEnv(), "WEBHOOKD_ADMIN_TOKEN="+p.Token, "WEBHOOKD_ENCRYPTION_KEYS="+encryptionKeys)
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("starting %s: %w", p.cfg.Binary, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.exitErr, p.logStart = cmd, exited, nil, info.Size()
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
	readyCtx, cancel := context.WithTimeout(ctx, p.cfg.ReadyTimeout)
	defer cancel()
	if err := p.waitReady(readyCtx, exited); err != nil {
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

// WaitReady waits until /readyz answers 200, as after a start; a process
// that exits meanwhile, or ctx ending, fails it.
func (p *Process) WaitReady(ctx context.Context) error {
	return p.waitReady(ctx, p.Exited())
}

func (p *Process) waitReady(ctx context.Context, exited <-chan struct{}) error {
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
			if strings.Contains(p.currentLog(), "address already in use") {
				return fmt.Errorf("webhookd exited during start (%v): %w; its log:\n%s", p.ExitErr(), errAddrInUse, p.LogTail(40))
			}
			return fmt.Errorf("webhookd exited during start (%v); its log:\n%s", p.ExitErr(), p.LogTail(40))
		case <-ctx.Done():
			return fmt.Errorf("webhookd not ready (%w); its log:\n%s", ctx.Err(), p.LogTail(40))
		case <-time.After(100 * time.Millisecond):
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

// Log is what webhookd has written to its log, across restarts.
func (p *Process) Log() string {
	b, err := os.ReadFile(p.cfg.LogPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// currentLog is what the current process has written to the log.
func (p *Process) currentLog() string {
	p.mu.Lock()
	start := p.logStart
	p.mu.Unlock()
	log := p.Log()
	return log[min(start, int64(len(log))):]
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
