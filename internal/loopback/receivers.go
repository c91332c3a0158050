// Package loopback runs the endpoints that webhookd-bench (make bench) and
// webhookd-chaos (make chaos) deliver to: one plain net/http server per
// endpoint, each on its own loopback address (127.0.0.1, 127.0.0.2, …), so
// that every endpoint is a different host to the sender's connection pool,
// as separate customers' hosts would be. What an endpoint answers and
// records is the caller's handler: the bench answers at once, chaos verifies
// signatures and hangs on cue.
package loopback

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// MaxEndpoints is how many endpoints fit in 127.0.0.1 … 127.0.0.254.
const MaxEndpoints = 254

// Key names one delivery: an event (its X-Webhook-Id) at one endpoint.
// The same event reaches each subscribed endpoint once, at least.
type Key struct {
	Endpoint int
	ID       string
}

// Receivers are the listening endpoints. URLs[i] is endpoint i's URL.
type Receivers struct {
	URLs    []string
	servers []*http.Server
}

// Listen starts n endpoints, endpoint i on 127.0.0.(i+1) at a free port with
// the URL path prefix/i, each served by handler(i).
func Listen(n int, prefix string, handler func(endpoint int) http.Handler) (*Receivers, error) {
	if n < 1 || n > MaxEndpoints {
		return nil, fmt.Errorf("loopback: %d endpoints, want 1 to %d", n, MaxEndpoints)
	}
	r := &Receivers{}
	for i := range n {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i+1))
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("loopback: %w", err)
		}
		srv := &http.Server{Handler: handler(i), ReadHeaderTimeout: 10 * time.Second}
		r.servers = append(r.servers, srv)
		r.URLs = append(r.URLs, fmt.Sprintf("http://%s%s/%d", ln.Addr(), prefix, i))
		go func() {
			// Serve fails only on a broken listener: the measurement could
			// not go on without this endpoint.
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				panic(err)
			}
		}()
	}
	return r, nil
}

// Close stops every endpoint and closes its connections.
func (r *Receivers) Close() {
	for _, s := range r.servers {
		_ = s.Close()
	}
}
