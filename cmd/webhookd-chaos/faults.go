package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// fault is one injected failure, as the report lists it.
type fault struct {
	name       string
	start, end time.Duration // since the first publish
	// lasts is how long a fault that goes on by itself once injected
	// lasts; zero means it is over when its injection returns.
	lasts time.Duration
	note  string
	// unrecorded says that attempts made shortly before or during the fault
	// may never be recorded (their worker died, or the database was gone),
	// so their deliveries are sent again: the duplicates at-least-once
	// delivery allows.
	unrecorded bool
}

// faultLog collects the faults of a run.
type faultLog struct {
	begin time.Time
	mu    sync.Mutex
	list  []fault
}

func (l *faultLog) add(f fault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, f)
}

func (l *faultLog) faults() []fault {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]fault(nil), l.list...)
}

// hangEndpoint makes endpoint 0 stop answering for d: every attempt in that
// time runs into webhookd's request timeout and is retried.
func hangEndpoint(recv *receiver, d time.Duration) fault {
	recv.hang(0, d)
	return fault{name: "endpoint 0 hangs", lasts: d, note: fmt.Sprintf("no answer for %s (request timeout 5s)", d)}
}

// killWorker SIGKILLs a webhookd process, as a crash would, and starts it
// again on the same addresses after a pause.
func killWorker(ctx context.Context, n *node, pause time.Duration) (fault, error) {
	n.dying.Store(true)
	defer n.dying.Store(false)
	if err := n.proc.Kill(); err != nil {
		return fault{}, err
	}
	f := fault{name: "SIGKILL webhookd " + n.name, unrecorded: true}
	if err := sleep(ctx, pause); err != nil {
		return f, err
	}
	if err := n.proc.Restart(ctx); err != nil {
		return f, fmt.Errorf("restarting webhookd %s: %w", n.name, err)
	}
	f.note = fmt.Sprintf("restarted after %s", pause.Round(time.Second))
	return f, nil
}

// redisNode is a Redis server started from a config file, which says where
// its pid file is.
type redisNode struct {
	server  string // redis-server binary
	conf    string
	port    int
	pidFile string
	cluster bool
}

func readRedisConf(server, conf string, cluster bool) (*redisNode, error) {
	f, err := os.Open(conf)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n := &redisNode{server: server, conf: conf, cluster: cluster}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			continue
		}
		switch fields[0] {
		case "port":
			n.port, _ = strconv.Atoi(fields[1])
		case "pidfile":
			n.pidFile = fields[1]
		}
	}
	if n.port == 0 || n.pidFile == "" {
		return nil, fmt.Errorf("%s: needs port and pidfile lines", conf)
	}
	return n, sc.Err()
}

// restart kills the node with SIGKILL, waits down, starts it again from its
// config file and waits until it answers (and, in a cluster, until the
// cluster says it is whole again). Nothing is saved, so it comes back empty:
// the schedule entries it held are gone, and the reconciler must put them
// back.
func (n *redisNode) restart(ctx context.Context, down time.Duration) (fault, error) {
	f := fault{name: fmt.Sprintf("Redis node :%d killed (SIGKILL)", n.port)}
	b, err := os.ReadFile(n.pidFile)
	if err != nil {
		return f, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return f, fmt.Errorf("%s: %w", n.pidFile, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return f, fmt.Errorf("killing redis-server %d: %w", pid, err)
	}
	for syscall.Kill(pid, 0) == nil { // it is not our child: poll until gone
		time.Sleep(20 * time.Millisecond)
	}
	if err := sleep(ctx, down); err != nil {
		return f, err
	}
	start := time.Now()
	if out, err := exec.CommandContext(ctx, n.server, n.conf).CombinedOutput(); err != nil {
		return f, fmt.Errorf("%s %s: %w: %s", n.server, n.conf, err, out)
	}
	client := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", n.port), MaxRetries: -1})
	defer client.Close()
	for {
		ok := client.Ping(ctx).Err() == nil
		if ok && n.cluster {
			info, err := client.ClusterInfo(ctx).Result()
			ok = err == nil && strings.Contains(info, "cluster_state:ok")
		}
		if ok {
			break
		}
		if time.Since(start) > time.Minute {
			return f, fmt.Errorf("redis node :%d not back within a minute", n.port)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return f, err
		}
	}
	f.note = fmt.Sprintf("down %s, started again empty from its config file; back in %s",
		down.Round(time.Second), time.Since(start).Round(100*time.Millisecond))
	if n.cluster {
		f.note += " (cluster_state:ok)"
	}
	return f, nil
}

// postgres restarts the PostgreSQL cluster the run uses with pg_ctl, as the
// owner of its data directory (PostgreSQL refuses to run as root).
type postgres struct {
	pgCtl string
	data  string
}

// restart kills PostgreSQL (stop -m immediate: no checkpoint, clients cut
// off, recovery on the next start, as after a crash), waits down and starts
// it again.
func (p *postgres) restart(ctx context.Context, down time.Duration) (fault, error) {
	f := fault{name: "PostgreSQL killed (pg_ctl stop -m immediate)", unrecorded: true}
	if err := p.pgCtlRun(ctx, "-D", p.data, "-m", "immediate", "-w", "stop"); err != nil {
		return f, err
	}
	if err := sleep(ctx, down); err != nil {
		return f, err
	}
	start := time.Now()
	logFile := filepath.Join(filepath.Dir(p.data), "server.log")
	if err := p.pgCtlRun(ctx, "-D", p.data, "-l", logFile, "-w", "-t", "60", "start"); err != nil {
		return f, err
	}
	f.note = fmt.Sprintf("down %s, crash recovery and start took %s",
		down.Round(time.Second), time.Since(start).Round(100*time.Millisecond))
	return f, nil
}

func (p *postgres) pgCtlRun(ctx context.Context, args ...string) error {
	st, err := os.Stat(p.data)
	if err != nil {
		return err
	}
	argv := append([]string{p.pgCtl}, args...)
	if uid := st.Sys().(*syscall.Stat_t).Uid; int(uid) != os.Getuid() {
		owner, err := user.LookupId(strconv.Itoa(int(uid)))
		if err != nil {
			return err
		}
		argv = append([]string{"runuser", "-u", owner.Username, "--"}, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(p.data) // a directory the owner can enter
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, out)
	}
	return nil
}

// sleep waits d, or less if ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
