package worker_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/worker"
)

// The worker pool of the hostile-receiver tests: fewer workers than a
// burst of deliveries to one endpoint, so that without the per-endpoint
// bound a hostile endpoint would take every worker.
const (
	hostileTimeout     = 3 * time.Second
	hostileWorkers     = 4
	hostilePerEndpoint = 2
	hostileBurst       = 2 * hostilePerEndpoint
	// healthyLatency bounds dispatch-to-arrival at the healthy endpoint
	// while the hostile one is attacked. It is half the attempt timeout: a
	// delivery that had to wait for a hung attempt would miss it, and a
	// loaded machine (the race detector, other packages' tests) has ample
	// room: the delivery takes milliseconds when nothing blocks it.
	healthyLatency = hostileTimeout / 2
)

// hostileRig is an engine on SQLite and the embedded schedule running on
// the real clock: the tests measure real durations, and retries (minutes
// away) never come due while they run.
type hostileRig struct {
	store    store.Store
	schedule *worker.Schedule
	ids      *webhookd.IDGenerator
	account  string
}

func startHostileRig(t *testing.T) *hostileRig {
	t.Helper()
	ctx := t.Context()
	st, r := openEmbedded(t)
	schedule, err := worker.NewSchedule(r.Client, worker.ScheduleConfig{Prefix: "hostile"})
	if err != nil {
		t.Fatal(err)
	}
	sender := newTestSender(t, worker.SenderConfig{
		Timeout:             hostileTimeout,
		AllowCIDRs:          []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		MaxConnsPerHost:     hostilePerEndpoint,
		MaxIdleConnsPerHost: hostilePerEndpoint,
	})
	rig := &hostileRig{store: st, schedule: schedule, ids: webhookd.NewIDGenerator(time.Now)}
	engine, err := worker.NewEngine(worker.EngineConfig{
		Store: st, Schedule: schedule, Sender: sender, Retry: worker.DefaultRetryPolicy(),
		Logger: slog.New(slog.DiscardHandler), IDs: rig.ids,
		Workers: hostileWorkers, PerEndpoint: hostilePerEndpoint, Lease: hostileTimeout + 6*time.Second,
		PollInterval: 10 * time.Millisecond, ReconcileInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = engine.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	now := time.Now().UTC()
	acct := &webhookd.Account{ID: rig.ids.New(webhookd.PrefixAccount), DisplayName: "hostile receivers", CreateTime: now, UpdateTime: now}
	if err := st.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	rig.account = acct.ID
	return rig
}

func (r *hostileRig) endpoint(t *testing.T, url, eventType string) {
	t.Helper()
	now := time.Now().UTC()
	ep := &webhookd.Endpoint{
		ID: r.ids.New(webhookd.PrefixEndpoint), AccountID: r.account, URL: url,
		EventTypes: []string{eventType}, Secret: webhookd.NewEndpointSecret(), CreateTime: now, UpdateTime: now,
	}
	if err := r.store.CreateEndpoint(t.Context(), ep, 0); err != nil {
		t.Fatal(err)
	}
}

// publish stores an event of eventType and dispatches its one delivery, as
// the API does, and returns the event id and the delivery id.
func (r *hostileRig) publish(t *testing.T, eventType string) (eventID, deliveryID string) {
	t.Helper()
	ev := &webhookd.Event{ID: r.ids.New(webhookd.PrefixEvent), AccountID: r.account, Type: eventType,
		Data: []byte(`{"property":{"id":"prop_123456"}}`), CreateTime: time.Now().UTC()}
	_, ds, _, err := r.store.PublishEvent(t.Context(), ev, r.ids.New)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("%d deliveries, want 1", len(ds))
	}
	if err := r.schedule.Add(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	return ev.ID, ds[0].ID
}

// firstAttempt waits for a delivery's first attempt to be recorded.
func (r *hostileRig) firstAttempt(t *testing.T, id string) *webhookd.Delivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := r.store.GetDelivery(t.Context(), "", id)
		if err != nil {
			t.Fatal(err)
		}
		// The attempt and the delivery's new state are one transaction, but
		// reading them is two queries: wait until both are there.
		if d.AttemptCount > 0 && len(d.Attempts) > 0 {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s has no attempt after 20s (status %s)", id, d.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// arrivals is a healthy receiver that notes when each event arrived.
type arrivals struct {
	*httptest.Server
	mu sync.Mutex
	at map[string]time.Time
}

func newArrivals(t *testing.T) *arrivals {
	t.Helper()
	a := &arrivals{at: map[string]time.Time{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ ID string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		if _, seen := a.at[body.ID]; !seen {
			a.at[body.ID] = time.Now()
		}
		a.mu.Unlock()
	}))
	t.Cleanup(a.Close)
	return a
}

// wait returns when the event arrived, failing the test after 10s.
func (a *arrivals) wait(t *testing.T, eventID string) time.Time {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.mu.Lock()
		at, ok := a.at[eventID]
		a.mu.Unlock()
		if ok {
			return at
		}
		if time.Now().After(deadline) {
			t.Fatalf("event %s never reached the healthy endpoint", eventID)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestHostileReceivers runs a burst of deliveries against each hostile
// receiver through a small worker pool that also serves a healthy endpoint.
// For each it checks the recorded attempt (error, status, how long it took,
// and when the retry is due), that the healthy endpoint's events keep
// arriving within healthyLatency meanwhile, and that the sender leaves no
// connection open to the hostile receiver.
func TestHostileReceivers(t *testing.T) {
	t.Parallel()
	// The target of the redirects, on loopback and allow-listed: it must
	// never be reached, since redirects are not followed.
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { targetHits.Add(1) }))
	t.Cleanup(target.Close)
	targetPort := strconv.Itoa(target.Listener.Addr().(*net.TCPAddr).Port)

	type check func(t *testing.T, d *webhookd.Delivery, a *webhookd.Attempt)
	// retryAfter checks that the next attempt is due want after the failed
	// one ended.
	retryAfter := func(want time.Duration) check {
		return func(t *testing.T, d *webhookd.Delivery, a *webhookd.Attempt) {
			t.Helper()
			ended := a.StartTime.Add(a.Duration)
			if got := d.NextAttemptTime.Sub(ended); d.Status != webhookd.DeliveryPending || got < want-2*time.Second || got > want+2*time.Second {
				t.Errorf("status %s, next attempt %v after the failed one, want %v", d.Status, got, want)
			}
		}
	}
	withRetryAfter := func(status int, value string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", value)
			w.WriteHeader(status)
		}
	}
	redirect := func(status int, to string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", to)
			w.WriteHeader(status)
		}
	}
	type hostileCase struct {
		hostileBehaviour
		handler http.HandlerFunc // an HTTP receiver instead of serve
		check   check
	}
	var cases []hostileCase
	for _, b := range hostileBehaviours() {
		c := hostileCase{hostileBehaviour: b, check: retryAfter(5 * time.Minute)}
		if b.wantErr == "" {
			c.check = func(t *testing.T, d *webhookd.Delivery, a *webhookd.Attempt) {
				if d.Status != webhookd.DeliverySucceeded || len(a.ResponseBody) != 4096 || strings.Trim(a.ResponseBody, "z") != "" {
					t.Errorf("status %s, excerpt of %d bytes; want a success keeping a 4096-byte excerpt", d.Status, len(a.ResponseBody))
				}
			}
		}
		cases = append(cases, c)
	}
	farDate := "Fri, 31 Dec 9999 23:59:59 GMT"
	for _, c := range []hostileCase{
		{hostileBehaviour: hostileBehaviour{name: "429 with Retry-After in seconds", wantErr: "unexpected status 429", wantStatus: 429},
			handler: withRetryAfter(429, "120"), check: retryAfter(2 * time.Minute)},
		{hostileBehaviour: hostileBehaviour{name: "429 with Retry-After as an HTTP date", wantErr: "unexpected status 429", wantStatus: 429},
			handler: func(w http.ResponseWriter, r *http.Request) {
				withRetryAfter(429, time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))(w, r)
			}, check: retryAfter(time.Hour)},
		{hostileBehaviour: hostileBehaviour{name: "429 with an absurd Retry-After in seconds is clamped to 24h", wantErr: "unexpected status 429", wantStatus: 429},
			handler: withRetryAfter(429, "99999999999999999999999"), check: retryAfter(24 * time.Hour)},
		{hostileBehaviour: hostileBehaviour{name: "503 with Retry-After in year 9999 is clamped to 24h", wantErr: "unexpected status 503", wantStatus: 503},
			handler: withRetryAfter(503, farDate), check: retryAfter(24 * time.Hour)},
		{hostileBehaviour: hostileBehaviour{name: "429 with Retry-After 0 waits at least a minute", wantErr: "unexpected status 429", wantStatus: 429},
			handler: withRetryAfter(429, "0"), check: retryAfter(time.Minute)},
		{hostileBehaviour: hostileBehaviour{name: "429 with a malformed Retry-After follows the schedule", wantErr: "unexpected status 429", wantStatus: 429},
			handler: withRetryAfter(429, "-5"), check: retryAfter(5 * time.Minute)},
		{hostileBehaviour: hostileBehaviour{name: "301 to the metadata service",
			wantErr: "redirect to http://169.254.169.254/latest/meta-data/ not followed (status 301)", wantStatus: 301},
			handler: redirect(301, "http://169.254.169.254/latest/meta-data/"), check: retryAfter(5 * time.Minute)},
		{hostileBehaviour: hostileBehaviour{name: "302 to a loopback port",
			wantErr: "redirect to http://127.0.0.1:" + targetPort + "/admin not followed (status 302)", wantStatus: 302},
			handler: redirect(302, "http://127.0.0.1:"+targetPort+"/admin"), check: retryAfter(5 * time.Minute)},
		{hostileBehaviour: hostileBehaviour{name: "307 to the metadata service as an IPv4-mapped address",
			wantErr: "redirect to http://[::ffff:169.254.169.254]/latest/meta-data/ not followed (status 307)", wantStatus: 307},
			handler: redirect(307, "http://[::ffff:169.254.169.254]/latest/meta-data/"), check: retryAfter(5 * time.Minute)},
		{hostileBehaviour: hostileBehaviour{name: "308 to loopback as a decimal number",
			wantErr: "redirect to http://2130706433:" + targetPort + "/ not followed (status 308)", wantStatus: 308},
			handler: redirect(308, "http://2130706433:"+targetPort+"/"), check: retryAfter(5 * time.Minute)},
	} {
		cases = append(cases, c)
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := startHostileRig(t)
			var raw *rawReceiver
			var url string
			if tc.serve != nil {
				raw = startRawReceiver(t, tc.serve)
				url = raw.URL()
			} else {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				url = srv.URL + "/hook"
			}
			healthy := newArrivals(t)
			rig.endpoint(t, url, "property.created")
			rig.endpoint(t, healthy.URL+"/hook", "property.updated")

			var hostile []string
			for range hostileBurst {
				_, id := rig.publish(t, "property.created")
				hostile = append(hostile, id)
			}
			// While the burst is being attempted, the healthy endpoint's
			// events arrive as fast as ever.
			for range 3 {
				eventID, _ := rig.publish(t, "property.updated")
				dispatched := time.Now()
				if latency := healthy.wait(t, eventID).Sub(dispatched); latency > healthyLatency {
					t.Errorf("a healthy delivery took %v during the attack, want under %v", latency, healthyLatency)
				}
				time.Sleep(100 * time.Millisecond)
			}

			want := tc.err(hostileTimeout)
			for _, id := range hostile {
				d := rig.firstAttempt(t, id)
				a := d.Attempts[0]
				if a.Error != want || a.ResponseStatus != tc.wantStatus {
					t.Errorf("attempt recorded error %q, status %d; want %q, %d", a.Error, a.ResponseStatus, want, tc.wantStatus)
				}
				switch {
				case tc.hangs && (a.Duration < hostileTimeout || a.Duration > hostileTimeout+time.Second):
					t.Errorf("attempt took %v, want the timeout %v", a.Duration, hostileTimeout)
				case !tc.hangs && a.Duration > hostileTimeout/2:
					t.Errorf("attempt took %v, want far less than the timeout %v", a.Duration, hostileTimeout)
				}
				tc.check(t, d, a)
			}
			if raw != nil {
				// Every connection was closed by the sender: none of these
				// receivers ends a response in a way that allows reuse.
				waitFor(t, "the sender to close its connections to the hostile receiver", func() bool { return raw.open() == 0 })
			}
		})
	}
	t.Cleanup(func() {
		if n := targetHits.Load(); n != 0 {
			t.Errorf("a redirect target got %d requests; redirects must never be followed", n)
		}
	})
}

// waitFor polls cond for up to 10s: long enough that a loaded machine does
// not fail it, short enough to end a test that would otherwise hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
