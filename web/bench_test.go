package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/webhookd/webhookd"
	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/app"
	"github.com/webhookd/webhookd/internal/testenv"
	"github.com/webhookd/webhookd/store"
	"github.com/webhookd/webhookd/web"
)

// The targets for the dashboard, printed beside the figures.
const (
	historyTarget   = 100 * time.Millisecond
	historySize     = 100_000
	historyPageSize = 25 // the delivery history's default page size (DeliveryHistory.tsx)
)

// BenchmarkDashboardHistory measures what the dashboard waits for on an
// endpoint with 100,000 deliveries: the first page of its delivery history
// (ListDeliveries over REST, as the history page asks for it) and the
// endpoint with its health figures (GetEndpoint, whose stats count every
// delivery of the last 24 hours: here all of them, the worst case). It runs
// on SQLite and, when scripts/bench-dashboard.sh (make bench-dashboard)
// provides one, on PostgreSQL, and prints the median and p99 of b.N calls
// against the 100 ms target, and the first load's JS + CSS gzipped against
// 150 KiB. Figures, not a pass/fail: the machine is shared.
func BenchmarkDashboardHistory(b *testing.B) {
	b.Run("first-load", func(b *testing.B) {
		h, err := web.Handler(web.Config{FrameAncestors: web.DefaultFrameAncestors})
		if err != nil {
			b.Fatal(err)
		}
		var n int
		for b.Loop() {
			n = firstLoadGzip(b, h)
		}
		b.ReportMetric(float64(n)/1024, "KiB-gzip")
		b.Logf("first load: %.1f KiB of JS + CSS gzipped (target at most %d KiB)", float64(n)/1024, maxFirstLoadGzip>>10)
	})
	backends := []struct {
		name string
		url  func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string { return "sqlite://" + filepath.Join(b.TempDir(), "webhookd.db") }},
		{"postgres", func(b *testing.B) string { return testenv.PostgresURL(b) }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			base, token, endpoint := seededApp(b, be.url(b))
			client := &http.Client{Timeout: 30 * time.Second}
			calls := []struct{ name, path string }{
				{"history", fmt.Sprintf("/v1/endpoints/%s/deliveries?pageSize=%d", endpoint, historyPageSize)},
				{"endpoint", "/v1/endpoints/" + endpoint},
			}
			for _, c := range calls {
				b.Run(c.name, func(b *testing.B) {
					var took []time.Duration
					for b.Loop() {
						t0 := time.Now()
						fetch(b, client, base+c.path, token)
						took = append(took, time.Since(t0))
					}
					slices.Sort(took)
					median, p99 := took[len(took)/2], took[min(len(took)-1, len(took)*99/100)]
					b.ReportMetric(float64(median.Microseconds())/1000, "median-ms")
					b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
					b.Logf("%s, %s, %d deliveries: median %.1f ms, p99 %.1f ms over %d calls (target under %s)",
						be.name, c.path, historySize, ms(median), ms(p99), len(took), historyTarget)
				})
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fetch(b *testing.B, client *http.Client, url, token string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d %s %v", url, resp.StatusCode, body, err)
	}
}

// seededApp runs webhookd (api role) on databaseURL with one account, a
// key, an endpoint and historySize deliveries of it, and returns its base
// URL, the key's token and the endpoint's id.
func seededApp(b *testing.B, databaseURL string) (base, token, endpointID string) {
	b.Helper()
	const adminToken = "bench-admin-token-0123456789"
	keys, err := store.GenerateKeyEntry("bench")
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := app.ParseConfig([]string{
		"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--roles=api", "--database-url=" + databaseURL,
		"--log-level=error", "--rate-limit=0",
	}, func(name string) string {
		switch name {
		case "WEBHOOKD_ADMIN_TOKEN":
			return adminToken
		case "WEBHOOKD_ENCRYPTION_KEYS":
			return keys
		}
		return ""
	}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })

	cc, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Close()
	admin := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+adminToken)
	ac, ws := webhooksv1.NewAdminServiceClient(cc), webhooksv1.NewWebhookServiceClient(cc)
	acct, err := ac.CreateAccount(admin, &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: "Bench Realty"}})
	if err != nil {
		b.Fatal(err)
	}
	key, err := ac.CreateApiKey(admin, &webhooksv1.CreateApiKeyRequest{ApiKey: &webhooksv1.ApiKey{Account: acct.GetName()}})
	if err != nil {
		b.Fatal(err)
	}
	cust := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key.GetToken())
	ep, err := ws.CreateEndpoint(cust, &webhooksv1.CreateEndpointRequest{Endpoint: &webhooksv1.Endpoint{
		Url: "https://your-app.com/webhooks/real-estate", EventTypes: []string{"property.created"}}})
	if err != nil {
		b.Fatal(err)
	}
	data, err := structpb.NewStruct(map[string]any{"property": map[string]any{"id": "prop_1"}})
	if err != nil {
		b.Fatal(err)
	}
	ev, err := ws.PublishEvent(cust, &webhooksv1.PublishEventRequest{Event: &webhooksv1.Event{Type: "property.created", Data: data}})
	if err != nil {
		b.Fatal(err)
	}

	// The history itself, written in one statement through the store.
	ring, err := store.ParseKeyring(keys)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, store.Config{DatabaseURL: databaseURL, Secrets: ring})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	seeder, ok := st.(store.Seeder)
	if !ok {
		b.Fatal("the store cannot seed deliveries")
	}
	accountID, eventID := strings.TrimPrefix(acct.GetName(), "accounts/"), strings.TrimPrefix(ev.GetName(), "events/")
	endpointID = strings.TrimPrefix(ep.GetName(), "endpoints/")
	t0 := time.Now()
	err = seeder.SeedDeliveries(ctx, &webhookd.Event{ID: eventID, AccountID: accountID, Type: "property.created"},
		endpointID, "dlv_seed", historySize-1, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: seeded %d deliveries in %s", strings.SplitN(databaseURL, ":", 2)[0], historySize, time.Since(t0).Round(time.Millisecond))
	return "http://" + a.HTTPAddr(), key.GetToken(), endpointID
}
