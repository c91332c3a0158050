package worker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/webhookd/webhookd/worker"
)

// clock is the fixed "now" of the retry tests.
var clock = time.Date(2023, 6, 15, 10, 30, 0, 0, time.UTC)

// TestRetryScheduleIsTheGuides walks a delivery through the default policy
// the way the engine does, each retry timed from the previous attempt, and
// checks it against the guide's promise: 5 min, 30 min, 2 h, 5 h, 10 h,
// then failed.
func TestRetryScheduleIsTheGuides(t *testing.T) {
	t.Parallel()
	p := worker.DefaultRetryPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	now := clock
	var gaps []time.Duration
	for attempts := 1; ; attempts++ {
		next, ok := p.Next(attempts, now, 0)
		if !ok {
			if attempts != 6 {
				t.Fatalf("delivery failed after %d attempts, want 6 (1 + 5 retries)", attempts)
			}
			break
		}
		gaps = append(gaps, next.Sub(now))
		now = next.Add(3 * time.Second) // the attempt itself takes a while
	}
	want := []time.Duration{5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour}
	if len(gaps) != len(want) {
		t.Fatalf("gaps %v, want %v", gaps, want)
	}
	for i := range want {
		if gaps[i] != want[i] {
			t.Errorf("retry %d comes %v after the previous attempt, want %v", i+1, gaps[i], want[i])
		}
	}
}

func TestRetryPolicyNext(t *testing.T) {
	t.Parallel()
	p := worker.RetryPolicy{
		Schedule:      []time.Duration{time.Minute, time.Hour},
		MinRetryAfter: 30 * time.Second,
		MaxRetryAfter: 2 * time.Hour,
	}
	cases := []struct {
		name       string
		policy     worker.RetryPolicy
		attempts   int
		retryAfter time.Duration
		want       time.Duration // from clock
		ok         bool
	}{
		{"nothing attempted yet: due now", p, 0, 0, 0, true},
		{"after the first attempt", p, 1, 0, time.Minute, true},
		{"after the second attempt", p, 2, 0, time.Hour, true},
		{"schedule used up: failed", p, 3, 0, 0, false},
		{"Retry-After replaces the delay", p, 1, 10 * time.Minute, 10 * time.Minute, true},
		{"Retry-After may shorten the delay", p, 2, 5 * time.Minute, 5 * time.Minute, true},
		{"Retry-After below the floor is raised", p, 1, time.Second, 30 * time.Second, true},
		{"Retry-After above the ceiling is lowered", p, 1, 72 * time.Hour, 2 * time.Hour, true},
		{"Retry-After adds no attempt", p, 3, 10 * time.Minute, 0, false},
		{"empty schedule: no retries", worker.RetryPolicy{}, 1, 0, 0, false},
		{"default policy clamps to a day", worker.DefaultRetryPolicy(), 1, 1 << 62, 24 * time.Hour, true},
		{"default policy floors at a minute", worker.DefaultRetryPolicy(), 1, time.Second, time.Minute, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			next, ok := tc.policy.Next(tc.attempts, clock, tc.retryAfter)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok && next.Sub(clock) != tc.want {
				t.Errorf("next = now+%v, want now+%v", next.Sub(clock), tc.want)
			}
		})
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		policy  worker.RetryPolicy
		wantErr string
	}{
		{"default", worker.DefaultRetryPolicy(), ""},
		{"no retries", worker.RetryPolicy{}, ""},
		{"zero delay", worker.RetryPolicy{Schedule: []time.Duration{time.Minute, 0}}, "delay 2 is 0s"},
		{"negative floor", worker.RetryPolicy{MinRetryAfter: -1}, "MinRetryAfter is -1ns"},
		{"ceiling below floor", worker.RetryPolicy{MinRetryAfter: time.Hour, MaxRetryAfter: time.Minute}, "MaxRetryAfter (1m0s) is less than MinRetryAfter (1h0m0s)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.policy.Validate()
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Validate = %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Validate = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestDefaultRetryScheduleIsACopy(t *testing.T) {
	t.Parallel()
	s := worker.DefaultRetrySchedule()
	s[0] = time.Nanosecond
	if worker.DefaultRetrySchedule()[0] != 5*time.Minute {
		t.Fatal("changing one caller's schedule changed the default")
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	cases := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"120", 2 * time.Minute, true},
		{"0", 0, true},
		{" 30 ", 30 * time.Second, true},
		{"Thu, 15 Jun 2023 11:30:00 GMT", time.Hour, true},      // IMF-fixdate
		{"Thursday, 15-Jun-23 10:31:00 GMT", time.Minute, true}, // RFC 850
		{"Thu Jun 15 10:30:30 2023", 30 * time.Second, true},    // asctime
		{"Thu, 15 Jun 2023 09:00:00 GMT", 0, true},              // in the past
		{"99999999999999999999999", 1<<63 - 1, true},            // saturates
		{"", 0, false},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"12abc", 0, false},
		{"soon", 0, false},
		{"2023-06-15T11:30:00Z", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.header, func(t *testing.T) {
			t.Parallel()
			got, ok := worker.ParseRetryAfter(tc.header, clock)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.header, got, ok, tc.want, tc.ok)
			}
		})
	}
}
