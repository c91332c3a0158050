package app

import (
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/webhookd/webhookd/server"
	"github.com/webhookd/webhookd/store"
)

// This file holds the flag.Value of every setting that is more than a
// string, a number or a duration. Each parses its text once, when the flag
// or its environment twin is read, into the typed field of Config, so that
// a bad value is refused then, named by its flag (invalidValue), and nothing
// later parses it again or has an error to drop.

// typedValue is a flag.Value that names its type in --help, where the flag
// package would only say "value".
type typedValue interface {
	Type() string
}

// secretValue is a flag.Value whose text is key material: a refusal must
// not repeat it.
type secretValue interface {
	secret()
}

// Roles is what a process does (--roles).
type Roles struct {
	// API serves gRPC and REST.
	API bool
	// Worker delivers.
	Worker bool
}

// rolesValue is --roles: api, worker or api,worker.
type rolesValue struct{ r *Roles }

func (v rolesValue) Type() string { return "string" }

func (v rolesValue) String() string {
	if v.r == nil {
		return ""
	}
	var names []string
	if v.r.API {
		names = append(names, "api")
	}
	if v.r.Worker {
		names = append(names, "worker")
	}
	return strings.Join(names, ",")
}

func (v rolesValue) Set(s string) error {
	var r Roles
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "api":
			r.API = true
		case "worker":
			r.Worker = true
		default:
			return fmt.Errorf("unknown role %q: want api, worker or api,worker", name)
		}
	}
	*v.r = r
	return nil
}

// durationsValue is --retry-schedule: comma-separated durations. Whether
// each is positive is Validate's to say.
type durationsValue struct{ d *[]time.Duration }

func (v durationsValue) Type() string { return "string" }

func (v durationsValue) String() string {
	if v.d == nil {
		return ""
	}
	parts := make([]string, len(*v.d))
	for i, d := range *v.d {
		parts[i] = shortDuration(d)
	}
	return strings.Join(parts, ",")
}

func (v durationsValue) Set(s string) error {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil {
			return err
		}
		out = append(out, d)
	}
	*v.d = out
	return nil
}

// shortDuration writes d as an operator would: 5m, 2h, 1h30m rather than
// time.Duration's 5m0s, 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// prefixesValue is --allow-cidr and --trusted-proxies: comma-separated
// address ranges, kept masked (10.1.2.3/8 is 10.0.0.0/8).
type prefixesValue struct{ p *[]netip.Prefix }

func (v prefixesValue) Type() string { return "string" }

func (v prefixesValue) String() string {
	if v.p == nil {
		return ""
	}
	parts := make([]string, len(*v.p))
	for i, p := range *v.p {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (v prefixesValue) Set(s string) error {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return err
		}
		out = append(out, p.Masked())
	}
	*v.p = out
	return nil
}

// levelValue is --log-level: debug, info, warn or error (slog's names,
// with offsets such as info+2).
type levelValue struct{ l *slog.Level }

func (v levelValue) Type() string { return "string" }

func (v levelValue) String() string {
	if v.l == nil {
		return ""
	}
	return strings.ToLower(v.l.String())
}

func (v levelValue) Set(s string) error { return v.l.UnmarshalText([]byte(s)) }

// keyringValue is --encryption-keys: id:base64key entries (store.ParseKeyring).
type keyringValue struct{ k **store.Keyring }

func (v keyringValue) Type() string { return "string" }
func (v keyringValue) secret()      {}

// String names the keys by id only: it must never show key material.
func (v keyringValue) String() string {
	if v.k == nil || *v.k == nil {
		return ""
	}
	return strings.Join((*v.k).IDs(), ",")
}

func (v keyringValue) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		*v.k = nil // no keys: the default of a SQLite database
		return nil
	}
	k, err := store.ParseKeyring(s)
	if err != nil {
		return err
	}
	*v.k = k
	return nil
}

// dashboardURLValue is --dashboard-url: an absolute http(s) URL without a
// fragment (server.ParseDashboardURL).
type dashboardURLValue struct{ u **url.URL }

func (v dashboardURLValue) Type() string { return "string" }

func (v dashboardURLValue) String() string {
	if v.u == nil || *v.u == nil {
		return ""
	}
	return (*v.u).String()
}

func (v dashboardURLValue) Set(s string) error {
	if s == "" {
		*v.u = nil
		return nil
	}
	u, err := server.ParseDashboardURL(s)
	if err != nil {
		return err
	}
	*v.u = u
	return nil
}
