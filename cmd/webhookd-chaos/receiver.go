package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webhookd/webhookd/internal/loopback"
)

// receiver plays the customers' endpoints, each on its own loopback address
// (package loopback). It verifies every request as the webhooks guide
// tells receivers to (X-Webhook-Signature: hex HMAC-SHA256 keyed with the
// endpoint secret's text over timestamp + body), answers 401 to a bad one
// (webhookd then retries it, and the run fails), and records the first
// arrival of every (event id, endpoint) and how many came again.
//
// One endpoint can be made to hang: while it does, requests get no answer
// until webhookd gives up on them (its request timeout) or the hang ends.
type receiver struct {
	urls      []string
	listeners *loopback.Receivers

	mu       sync.Mutex
	secrets  []string
	arrivals map[arrivalKey]time.Time
	dups     []duplicate
	badSigs  int
	lastBad  string

	requests  atomic.Int64
	hangUntil []atomic.Int64 // unix nanos, per endpoint
	hungUp    atomic.Int64   // requests webhookd abandoned while hanging
}

// arrivalKey names one delivery: an event at one endpoint.
type arrivalKey = loopback.Key

func startReceiver(n int) (*receiver, error) {
	r := &receiver{
		secrets:   make([]string, n),
		arrivals:  make(map[arrivalKey]time.Time),
		hangUntil: make([]atomic.Int64, n),
	}
	listeners, err := loopback.Listen(n, "/hooks", r.handler)
	if err != nil {
		return nil, err
	}
	r.listeners, r.urls = listeners, listeners.URLs
	return r, nil
}

// setSecret tells the receiver endpoint i's signing secret.
func (r *receiver) setSecret(i int, secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[i] = secret
}

// hang makes endpoint i stop answering for d.
func (r *receiver) hang(i int, d time.Duration) {
	r.hangUntil[i].Store(time.Now().Add(d).UnixNano())
}

func (r *receiver) handler(endpoint int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		if err != nil {
			return // webhookd gave up on the request
		}
		if until := time.Unix(0, r.hangUntil[endpoint].Load()); time.Now().Before(until) {
			t := time.NewTimer(time.Until(until))
			select {
			case <-t.C:
			case <-req.Context().Done():
				t.Stop()
				r.hungUp.Add(1)
				return
			}
		}
		at := time.Now()
		id := req.Header.Get("X-Webhook-Id")
		if problem := r.verify(endpoint, id, req.Header.Get("X-Webhook-Timestamp"), req.Header.Get("X-Webhook-Signature"), body); problem != "" {
			r.mu.Lock()
			r.badSigs++
			r.lastBad = fmt.Sprintf("endpoint %d, event %s: %s", endpoint, id, problem)
			r.mu.Unlock()
			http.Error(w, problem, http.StatusUnauthorized)
			return
		}
		r.mu.Lock()
		k := arrivalKey{Endpoint: endpoint, ID: id}
		if first, seen := r.arrivals[k]; seen {
			// At least once: a redelivery counts once, at its first arrival.
			r.dups = append(r.dups, duplicate{first: first, again: at})
		} else {
			r.arrivals[k] = at
		}
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
}

// verify checks a request as the guide's receiver does, and that the body is
// the event the headers name. It returns what is wrong, or "".
func (r *receiver) verify(endpoint int, id, timestamp, signature string, body []byte) string {
	r.mu.Lock()
	secret := r.secrets[endpoint]
	r.mu.Unlock()
	if secret == "" {
		return "no secret known for the endpoint"
	}
	if id == "" || timestamp == "" || signature == "" {
		return "missing X-Webhook-Id, X-Webhook-Timestamp or X-Webhook-Signature"
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write(body)
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return "X-Webhook-Signature does not match"
	}
	var env struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.ID != id {
		return fmt.Sprintf("body's id %q is not X-Webhook-Id", env.ID)
	}
	return ""
}

// duplicate is a delivery that arrived again: when it first arrived, and
// when again.
type duplicate struct{ first, again time.Time }

// snapshot copies what arrived so far.
func (r *receiver) snapshot() (arrivals map[arrivalKey]time.Time, dups []duplicate, badSigs int, lastBad string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	arrivals = make(map[arrivalKey]time.Time, len(r.arrivals))
	for k, v := range r.arrivals {
		arrivals[k] = v
	}
	return arrivals, slices.Clone(r.dups), r.badSigs, r.lastBad
}

// has reports whether endpoint got event id.
func (r *receiver) has(k arrivalKey) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.arrivals[k]
	return ok
}

func (r *receiver) close() {
	r.listeners.Close()
}
