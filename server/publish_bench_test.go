package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	webhooksv1 "github.com/webhookd/webhookd/gen/webhooks/v1"
	"github.com/webhookd/webhookd/internal/app"
	"github.com/webhookd/webhookd/internal/testenv"
)

// BenchmarkPublish publishes the guide's property.created event to an
// account with one subscribed endpoint, over REST and over gRPC, on the same
// webhookd (api role, PostgreSQL, the embedded schedule), from 16 concurrent
// publishers. Besides time per publish it reports cpu-µs/op: the process's
// user and system CPU per publish, clients included, which is what a
// publish costs the machine whichever surface it uses.
//
//	scripts/test.sh -run '^$' -bench BenchmarkPublish -benchtime 5000x ./server/
func BenchmarkPublish(b *testing.B) {
	dbURL := testenv.PostgresURL(b)
	cfg, err := app.ParseConfig([]string{
		"--http-addr=127.0.0.1:0", "--grpc-addr=127.0.0.1:0", "--roles=api",
		"--database-url=" + dbURL, "--log-level=error", "--shutdown-timeout=5s",
		"--rate-limit=0",
	}, func(name string) string {
		switch name {
		case "WEBHOOKD_ADMIN_TOKEN":
			return testAdminToken
		case "WEBHOOKD_ENCRYPTION_KEYS":
			return testEncryptionKeys
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
	b.Cleanup(func() { _ = cc.Close() })
	ws, admin := webhooksv1.NewWebhookServiceClient(cc), webhooksv1.NewAdminServiceClient(cc)
	actx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+testAdminToken)
	acct, err := admin.CreateAccount(actx, &webhooksv1.CreateAccountRequest{Account: &webhooksv1.Account{DisplayName: "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := ws.CreateEndpoint(actx, &webhooksv1.CreateEndpointRequest{
		Account:  acct.GetName(),
		Endpoint: &webhooksv1.Endpoint{Url: guideURL, EventTypes: []string{propertyCreated}},
	}); err != nil {
		b.Fatal(err)
	}
	data := `{"property":{"id":"prop_123456","address":"123 Main St, New York, NY 10001","price":750000,"bedrooms":2,"bathrooms":2,"squareFeet":1200,"createdAt":"2023-06-15T10:30:00Z"}}`
	dataStruct := &structpb.Struct{}
	if err := dataStruct.UnmarshalJSON([]byte(data)); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	key := func() string {
		return "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(seq.Add(1), 10)
	}

	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	restURL := "http://" + a.HTTPAddr() + "/v1/events?account=" + acct.GetName() + "&idempotencyKey="
	body := []byte(`{"type":"` + propertyCreated + `","data":` + data + `}`)
	publishers := map[string]func() error{
		"rest": func() error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, restURL+key(), bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testAdminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := httpClient.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			return nil
		},
		"grpc": func() error {
			_, err := ws.PublishEvent(actx, &webhooksv1.PublishEventRequest{
				Account: acct.GetName(), IdempotencyKey: key(),
				Event: &webhooksv1.Event{Type: propertyCreated, Data: dataStruct},
			})
			return err
		},
	}
	for _, surface := range []string{"rest", "grpc"} {
		publish := publishers[surface]
		b.Run(surface, func(b *testing.B) {
			for range 50 { // warm connections and caches
				if err := publish(); err != nil {
					b.Fatal(err)
				}
			}
			b.SetParallelism(8) // 16 publishers on 2 CPUs
			before := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := publish(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
