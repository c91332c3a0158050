package main

import "runtime/debug"

// defaultGCPercent is the garbage collector's target unless GOGC is set.
// Every delivery leaves short-lived garbage (a request, its body and
// headers, rows read and written), and at Go's default of 100 collecting it
// took about a tenth of webhookd's CPU under make bench's load. At 400 the
// heap may grow to five times what is live, which is tens of MiB.
const defaultGCPercent = 400

// defaultMemoryLimit is the runtime's soft memory limit unless GOMEMLIMIT is
// set. Five times what is live is too much when a burst makes much garbage:
// publishing 25,000 events to endpoints that refuse them (100,000 retries
// waiting) took the RSS to about 160 MiB while under 40 MiB of heap was
// live, and the rest was garbage not yet collected. Near the limit the
// collector runs sooner, so GOGC=400 saves its CPU wherever memory is not
// short. The limit is soft: a live heap beyond it is collected more often,
// never refused.
const defaultMemoryLimit = 96 << 20

// gcSettings are the collector settings webhookd applies at start.
type gcSettings struct {
	percent     int   // for debug.SetGCPercent; 0: leave GOGC's
	memoryLimit int64 // for debug.SetMemoryLimit; 0: leave GOMEMLIMIT's
}

// gcSettingsFor chooses them: webhookd's defaults, except where the Go
// runtime's own variables say otherwise.
func gcSettingsFor(getenv func(string) string) gcSettings {
	var s gcSettings
	if getenv("GOGC") == "" {
		s.percent = defaultGCPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		s.memoryLimit = defaultMemoryLimit
	}
	return s
}

func (s gcSettings) apply() {
	if s.percent != 0 {
		debug.SetGCPercent(s.percent)
	}
	if s.memoryLimit != 0 {
		debug.SetMemoryLimit(s.memoryLimit)
	}
}
