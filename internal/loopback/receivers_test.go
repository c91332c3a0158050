package loopback_test

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/webhookd/webhookd/internal/loopback"
)

// Every endpoint is its own host, its URL reaches its own handler, and
// nothing answers after Close.
func TestListen(t *testing.T) {
	t.Parallel()
	r, err := loopback.Listen(3, "/hooks", func(i int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			_, _ = io.WriteString(w, strconv.Itoa(i)+" "+req.URL.Path)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]bool{}
	for i, u := range r.URLs {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		if want := "127.0.0." + strconv.Itoa(i+1); parsed.Hostname() != want {
			t.Errorf("endpoint %d listens on %s, want %s", i, parsed.Hostname(), want)
		}
		hosts[parsed.Host] = true
		resp, err := http.Post(u, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := strconv.Itoa(i) + " /hooks/" + strconv.Itoa(i); string(body) != want {
			t.Errorf("endpoint %d answered %q, want %q", i, body, want)
		}
	}
	if len(hosts) != 3 {
		t.Errorf("3 endpoints on %d addresses", len(hosts))
	}
	r.Close()
	if resp, err := http.Post(r.URLs[0], "application/json", nil); err == nil {
		resp.Body.Close()
		t.Error("an endpoint answered after Close")
	}
}

func TestListenRefusesCounts(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, loopback.MaxEndpoints + 1} {
		if r, err := loopback.Listen(n, "/hooks", func(int) http.Handler { return http.NotFoundHandler() }); err == nil {
			r.Close()
			t.Errorf("Listen(%d) succeeded", n)
		}
	}
}
