package app_test

import (
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webhookd/webhookd/internal/app"
)

// TestAutoDisableOverREST shows an auto-disabled endpoint as the REST API
// does, and re-enables it with one call. The failure clock is moved back
// in the database, standing for five days of failures; the worker's next
// failed attempt then disables the endpoint.
func TestAutoDisableOverREST(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "webhookd.db")
	const token = "autodisable-test-admin-token"
	cfg, err := app.ParseConfig([]string{
		"--database-url=sqlite://" + dbPath,
		"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0",
		"--allow-http-endpoints", "--allow-cidr=127.0.0.0/8",
		"--poll-interval=50ms", "--shutdown-timeout=10s", "--log-level=error",
	}, func(k string) string {
		if k == "WEBHOOKD_ADMIN_TOKEN" {
			return token
		}
		return ""
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	a := runApp(t, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))

	var requests atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer receiver.Close()

	base := "http://" + a.HTTPAddr()
	call := func(method, path, body string, out any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				t.Fatalf("%s %s: %v in %s", method, path, err, raw)
			}
		}
	}
	type endpoint struct {
		Name             string `json:"name"`
		State            string `json:"state"`
		DisabledReason   string `json:"disabledReason"`
		DisableTime      string `json:"disableTime"`
		FailingSinceTime string `json:"failingSinceTime"`
	}
	var acct struct{ Name string }
	call(http.MethodPost, "/v1/accounts", `{"displayName":"Acme"}`, &acct)
	var ep endpoint
	call(http.MethodPost, "/v1/endpoints?account="+acct.Name, `{"url":"`+receiver.URL+`/hook","eventTypes":["property.created"]}`, &ep)
	id := strings.TrimPrefix(ep.Name, "endpoints/")
	publishAndWait := func(wantRequests int32) {
		t.Helper()
		call(http.MethodPost, "/v1/events?account="+acct.Name, `{"type":"property.created","data":{"property":{"id":"prop_1"}}}`, nil)
		deadline := time.Now().Add(10 * time.Second)
		for requests.Load() < wantRequests {
			if time.Now().After(deadline) {
				t.Fatalf("receiver got %d requests, want %d", requests.Load(), wantRequests)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	getEndpoint := func() endpoint {
		t.Helper()
		var got endpoint
		call(http.MethodGet, "/v1/endpoints/"+id, "", &got)
		return got
	}
	waitFor := func(what string, ok func(endpoint) bool) endpoint {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := getEndpoint()
			if ok(got) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("endpoint never %s: %+v", what, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	publishAndWait(1)
	got := waitFor("failing", func(e endpoint) bool { return e.FailingSinceTime != "" })
	if got.State != "ENABLED" {
		t.Fatalf("after one failure: %+v, want enabled", got)
	}
	// Five days and a minute of failures, as far as the clock knows.
	since := time.Now().Add(-5*24*time.Hour - time.Minute).UTC().Truncate(time.Second)
	db, err := sql.Open("sqlite", dbPath+"?_time_format=sqlite&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), "UPDATE endpoints SET failing_since = ? WHERE id = ?", since, id); err != nil {
		t.Fatal(err)
	}

	publishAndWait(2)
	got = waitFor("disabled", func(e endpoint) bool { return e.State == "DISABLED" })
	if want := "every delivery attempt failed since " + since.Format(time.RFC3339); got.DisabledReason != want || got.DisableTime == "" ||
		got.FailingSinceTime != since.Format(time.RFC3339) {
		t.Fatalf("auto-disabled endpoint: %+v; want reason %q, a disable time, failing since %s", got, want, since.Format(time.RFC3339))
	}

	var enabled endpoint
	call(http.MethodPost, "/v1/endpoints/"+id+":enable", `{}`, &enabled)
	if enabled != (endpoint{Name: ep.Name, State: "ENABLED"}) || getEndpoint() != enabled {
		t.Fatalf(":enable answered %+v, then GET %+v; want enabled with no reason, disable time or failure clock", enabled, getEndpoint())
	}
}
