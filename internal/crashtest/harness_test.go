package crashtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webhookd/webhookd/internal/daemon"
	"github.com/webhookd/webhookd/internal/testenv"
)

// The engine settings of every webhookd the tests start: short enough that a
// lease runs out, a retry comes due and the reconciler runs within seconds.
var engineFlags = []string{
	"--allow-http-endpoints",
	"--allow-cidr=127.0.0.0/8",
	"--request-timeout=2s",
	"--lease=8s",
	"--poll-interval=100ms",
	"--reconcile-interval=500ms",
	"--retry-schedule=1s,1s,1s,1s,1s",
}

// scheduleKey is the sorted set of the schedule (worker.NewSchedule with the
// production prefix "webhookd").
const scheduleKey = "webhookd:{schedule}:due"

// logsVar, when set, logs the output of every process even when the test
// passes; otherwise it is logged on failure only.
const logsVar = "WEBHOOKD_CRASHTEST_LOGS"

// eventType is the type every test event has; the endpoint subscribes to it.
const eventType = "property.created"

var (
	binDir    string // removed by TestMain
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "webhookd-crashtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		os.Exit(1)
	}
	binDir = dir
	// The tests' own clients retry against a Redis that is still starting;
	// go-redis would print every failed dial.
	redis.SetLogger(quietRedisLog{})
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

// webhookdBinary builds cmd/webhookd once per test binary, on first use, so
// that a run whose tests all skip builds nothing.
func webhookdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(binDir, "webhookd")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/webhookd/webhookd/cmd/webhookd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/webhookd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort returns a loopback TCP port nothing listened on a moment ago. A
// process may still take it first: callers retry on "address already in use".
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ---------------------------------------------------------------------------
// Processes

// proc is a child process other than webhookd (a redis-server), in a
// process group of its own, so that killing it kills whatever it started
// too. webhookd processes are package daemon's (see cluster.start).
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // of Wait, once done is closed
}

// startProc starts path with args and env. It is SIGKILLed, with its process
// group, when the test ends, and its output is logged if the test failed.
func startProc(t *testing.T, name, path string, args, env []string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(path, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() || os.Getenv(logsVar) != "" {
			t.Logf("--- output of %s (%v), last lines:\n%s", p.name, p.err, tail(p.out.String(), 40))
		}
	})
	return p
}

// kill SIGKILLs the process group and waits for the process to be gone.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ---------------------------------------------------------------------------
// Redis

// redisServer is a redis-server of one test's own, without persistence, so
// that it can be flushed, killed and restarted (empty) on the same port.
type redisServer struct {
	t      *testing.T
	bin    string
	port   int
	dir    string
	proc   *proc
	starts int
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	r := &redisServer{t: t, bin: testenv.RedisServer(t), dir: t.TempDir()}
	var err error
	for range 5 {
		r.port = freePort(t)
		if err = r.start(); err == nil {
			return r
		}
	}
	t.Fatalf("starting redis-server: %v", err)
	return nil
}

// restart starts redis-server again, on the port it had.
func (r *redisServer) restart() {
	r.t.Helper()
	if err := r.start(); err != nil {
		r.t.Fatalf("restarting redis-server on port %d: %v", r.port, err)
	}
}

func (r *redisServer) start() error {
	r.starts++
	p := startProc(r.t, fmt.Sprintf("redis-server:%d#%d", r.port, r.starts), r.bin, []string{
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", r.dir,
	}, []string{"PATH=" + os.Getenv("PATH")})
	c := r.client()
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p.exited() {
			return fmt.Errorf("redis-server exited (%v): %s", p.err, tail(p.out.String(), 5))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			r.proc = p
			return nil
		}
		if time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("redis-server on port %d does not answer PING: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), MaxRetries: -1})
}

// do runs one command, as redis-cli would.
func (r *redisServer) do(args ...any) (any, error) {
	c := r.client()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Do(ctx, args...).Result()
}

// ---------------------------------------------------------------------------
// webhookd

// webhookd is one running webhookd process, started by package daemon as
// the chaos and bench commands start theirs.
type webhookd struct {
	*daemon.Process
	t    *testing.T
	name string
	base string // http://127.0.0.1:PORT of its REST API and health checks
}

// cluster is what every webhookd process of one test shares: the
// database and Redis (and the encryption keys, the same in every process
// package daemon starts).
type cluster struct {
	t     *testing.T
	bin   string
	dbURL string
	redis *redisServer
	n     int
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	// Skip (or fail in CI) before building anything if a server is missing.
	rs := startRedis(t)
	dbURL := testenv.PostgresURL(t)
	return &cluster{t: t, bin: webhookdBinary(t), dbURL: dbURL, redis: rs}
}

// start runs webhookd with role ("api" or "worker") and waits until /readyz
// answers 200. It is SIGKILLed when the test ends, and the end of its log
// logged if the test failed.
func (c *cluster) start(role string) *webhookd {
	c.t.Helper()
	c.n++
	name := fmt.Sprintf("webhookd-%s#%d", role, c.n)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := daemon.Start(ctx, daemon.Config{
		Binary: c.bin,
		Args: append([]string{
			"--roles=" + role,
			"--database-url=" + c.dbURL,
			"--redis-url=" + c.redis.url(),
		}, engineFlags...),
		LogPath:      filepath.Join(c.t.TempDir(), name+".log"),
		ReadyTimeout: 30 * time.Second,
	})
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	w := &webhookd{Process: p, t: c.t, name: name, base: "http://" + p.HTTPAddr}
	c.t.Cleanup(func() {
		w.kill()
		_ = p.Conn.Close()
		if c.t.Failed() || os.Getenv(logsVar) != "" {
			c.t.Logf("--- output of %s (%v), last lines:\n%s", w.name, p.ExitErr(), p.LogTail(40))
		}
	})
	return w
}

// kill SIGKILLs the process and waits for it to be gone.
func (w *webhookd) kill() {
	if err := w.Kill(); err != nil {
		w.t.Errorf("killing %s: %v", w.name, err)
	}
}

func (w *webhookd) exited() bool {
	select {
	case <-w.Exited():
		return true
	default:
		return false
	}
}

// waitReady waits until /readyz answers 200 again, after an outage.
func (w *webhookd) waitReady(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return w.WaitReady(ctx)
}

// ---------------------------------------------------------------------------
// REST client

// apiClient calls the REST API with the admin token.
type apiClient struct {
	base, token string
	http        *http.Client
}

func (c *cluster) client(api *webhookd) *apiClient {
	return &apiClient{base: api.base, token: api.Token, http: &http.Client{Timeout: 15 * time.Second}}
}

// call sends body (JSON, if not nil) and decodes a 200 answer into out.
func (a *apiClient) call(method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(got))
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			return fmt.Errorf("%s %s: decoding %s: %w", method, path, got, err)
		}
	}
	return nil
}

type delivery struct {
	Name, Event, Status, LastError string
	AttemptCount                   int
}

// deliveries lists every delivery of an endpoint.
func (a *apiClient) deliveries(endpoint string) ([]delivery, error) {
	var all []delivery
	token := ""
	for {
		var page struct {
			Deliveries    []delivery
			NextPageToken string
		}
		q := url.Values{"pageSize": {"1000"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		if err := a.call("GET", "/v1/"+endpoint+"/deliveries?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Deliveries...)
		if token = page.NextPageToken; token == "" {
			return all, nil
		}
	}
}

// ---------------------------------------------------------------------------
// Receiver

// receiver is the customer's endpoint. It counts every request per event id
// (X-Webhook-Id) and answers as its policy says; a policy may block.
type receiver struct {
	srv    *httptest.Server
	policy func(r *http.Request, id string, n int) int // n: this id's request number, from 1

	mu       sync.Mutex
	requests map[string]int       // requests per event id
	oks      map[string]int       // 2xx answers per event id
	firstOK  map[string]time.Time // when an id was first answered 2xx
	inflight int
	total    int
}

func newReceiver(t *testing.T, policy func(r *http.Request, id string, n int) int) *receiver {
	rc := &receiver{policy: policy, requests: map[string]int{}, oks: map[string]int{}, firstOK: map[string]time.Time{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	id := r.Header.Get("X-Webhook-Id")
	rc.mu.Lock()
	rc.requests[id]++
	rc.total++
	n := rc.requests[id]
	rc.inflight++
	rc.mu.Unlock()

	status := rc.policy(r, id, n)

	rc.mu.Lock()
	rc.inflight--
	// A request whose sender went away (a killed worker) gets no answer.
	if r.Context().Err() == nil && status/100 == 2 {
		rc.oks[id]++
		if _, ok := rc.firstOK[id]; !ok {
			rc.firstOK[id] = time.Now()
		}
	}
	rc.mu.Unlock()
	w.WriteHeader(status)
}

func (rc *receiver) inFlight() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.inflight
}

// seen reports how many of ids were requested at least once.
func (rc *receiver) seen(ids []string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, id := range ids {
		if rc.requests[id] > 0 {
			n++
		}
	}
	return n
}

// ---------------------------------------------------------------------------
// Scenario

// scenario is one test's world: a cluster, a receiver, an account with one
// endpoint subscribed to eventType, and the events published so far.
type scenario struct {
	t        *testing.T
	c        *cluster
	rcv      *receiver
	api      *webhookd
	client   *apiClient
	account  string
	endpoint string

	mu          sync.Mutex
	published   map[string]time.Time // event id → when its publish call started
	order       []string
	keys        map[string]string // idempotency key → event id
	maxPublish  time.Duration     // slowest publish call
	publishErrs []string
}

func newScenario(t *testing.T, policy func(r *http.Request, id string, n int) int) *scenario {
	t.Helper()
	c := newCluster(t)
	s := &scenario{t: t, c: c, rcv: newReceiver(t, policy), published: map[string]time.Time{}, keys: map[string]string{}}
	s.api = c.start("api")
	s.client = c.client(s.api)
	var acct struct{ Name string }
	if err := s.client.call("POST", "/v1/accounts", map[string]any{"displayName": t.Name()}, &acct); err != nil {
		t.Fatal(err)
	}
	s.account = acct.Name
	var ep struct{ Name string }
	if err := s.client.call("POST", "/v1/endpoints?account="+url.QueryEscape(s.account), map[string]any{
		"url": s.rcv.srv.URL + "/webhooks", "eventTypes": []string{eventType},
	}, &ep); err != nil {
		t.Fatal(err)
	}
	s.endpoint = ep.Name
	return s
}

// publish publishes one event with idempotency key key and returns its id.
func (s *scenario) publish(key string, seq int) (string, error) {
	q := url.Values{"account": {s.account}, "idempotencyKey": {key}}
	var ev struct{ Name string }
	start := time.Now()
	err := s.client.call("POST", "/v1/events?"+q.Encode(), map[string]any{
		"type": eventType,
		"data": map[string]any{"property": map[string]any{"id": fmt.Sprintf("prop_%06d", seq), "price": 500000 + seq}},
	}, &ev)
	took := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxPublish = max(s.maxPublish, took)
	if err != nil {
		s.publishErrs = append(s.publishErrs, err.Error())
		return "", err
	}
	id := strings.TrimPrefix(ev.Name, "events/")
	if prev, ok := s.keys[key]; ok {
		if prev != id {
			return "", fmt.Errorf("idempotency key %q published %s, then %s", key, prev, id)
		}
		return id, nil
	}
	s.keys[key] = id
	s.published[id] = start
	s.order = append(s.order, id)
	return id, nil
}

// publishBatch publishes n events keyed prefix-0 … prefix-(n-1) and returns
// their ids; a failed publish fails the test.
func (s *scenario) publishBatch(prefix string, n int) []string {
	s.t.Helper()
	ids := make([]string, 0, n)
	for i := range n {
		id, err := s.publish(fmt.Sprintf("%s-%d", prefix, i), i)
		if err != nil {
			s.t.Fatalf("publishing %s-%d: %v", prefix, i, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// waitFor polls cond every 100ms until it returns true or timeout passes,
// then fails the test with what cond last said.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; %s", what, timeout, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitAllDelivered waits until the receiver has answered 2xx to every
// published event and the API shows every delivery SUCCEEDED. A FAILED
// delivery fails the test at once: the retries ran out, which these tests
// never intend.
func (s *scenario) waitAllDelivered(timeout time.Duration) {
	s.t.Helper()
	s.mu.Lock()
	ids := slices.Clone(s.order)
	s.mu.Unlock()
	waitFor(s.t, "every event delivered and every delivery SUCCEEDED", timeout, func() (bool, string) {
		s.rcv.mu.Lock()
		var missing []string
		for _, id := range ids {
			if s.rcv.oks[id] == 0 {
				missing = append(missing, id)
			}
		}
		s.rcv.mu.Unlock()
		ds, err := s.client.deliveries(s.endpoint)
		if err != nil {
			return false, fmt.Sprintf("listing deliveries: %v", err)
		}
		statuses := map[string]int{}
		for _, d := range ds {
			statuses[d.Status]++
			if d.Status == "FAILED" {
				s.t.Fatalf("delivery %s of %s FAILED after %d attempts: %s", d.Name, d.Event, d.AttemptCount, d.LastError)
			}
		}
		state := fmt.Sprintf("%d of %d events not yet answered 2xx by the receiver (e.g. %v); deliveries by status: %v",
			len(missing), len(ids), missing[:min(len(missing), 5)], statuses)
		return len(missing) == 0 && len(ds) == len(ids) && statuses["SUCCEEDED"] == len(ids), state
	})
}

// report checks that the receiver got exactly the published events, none
// lost and none unknown, and logs the figures.
func (s *scenario) report() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcv.mu.Lock()
	defer s.rcv.mu.Unlock()
	var lost, unknown []string
	duplicates, resent := 0, 0
	var longest time.Duration
	for _, id := range s.order {
		if s.rcv.oks[id] == 0 {
			lost = append(lost, id)
			continue
		}
		duplicates += s.rcv.oks[id] - 1
		if d := s.rcv.firstOK[id].Sub(s.published[id]); d > longest {
			longest = d
		}
	}
	for id, n := range s.rcv.requests {
		if _, ok := s.published[id]; !ok {
			unknown = append(unknown, id)
		}
		if n > 1 {
			resent++
		}
	}
	s.t.Logf("published %d, delivered %d, lost %d, duplicates %d (2xx answers beyond the first), "+
		"events sent more than once %d, requests %d, longest publish-to-delivery delay %s, slowest publish %s",
		len(s.order), len(s.order)-len(lost), len(lost), duplicates, resent, s.rcv.total,
		longest.Round(time.Millisecond), s.maxPublish.Round(time.Millisecond))
	if len(lost) > 0 {
		s.t.Errorf("%d events lost (published, never answered 2xx by the receiver): %v", len(lost), lost)
	}
	if len(unknown) > 0 {
		s.t.Errorf("the receiver got %d event ids never published: %v", len(unknown), unknown)
	}
}
