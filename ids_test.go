package webhookd_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/webhookd/webhookd"
)

func TestIDsSortByCreationAndAreUnique(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	g := webhookd.NewIDGenerator(now)

	var ids []string
	for i := range 3000 {
		if i%1000 == 999 { // the clock moves on now and then; within a millisecond ids still grow
			mu.Lock()
			clock = clock.Add(time.Millisecond)
			mu.Unlock()
		}
		ids = append(ids, g.New(webhookd.PrefixEvent))
	}
	if !slices.IsSorted(ids) {
		t.Fatal("ids made in order do not sort in order")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatal("duplicate ids")
	}
	for _, id := range ids[:5] {
		if !webhookd.HasPrefix(id, webhookd.PrefixEvent) || len(id) != len("evt_")+26 {
			t.Fatalf("malformed id %q", id)
		}
	}
	// A later millisecond always sorts after, whatever the random part.
	later := webhookd.NewIDGenerator(func() time.Time { return clock.Add(time.Millisecond) }).New(webhookd.PrefixEvent)
	if later <= ids[len(ids)-1] {
		t.Fatalf("%q made later sorts before %q", later, ids[len(ids)-1])
	}
}

func TestIDsConcurrent(t *testing.T) {
	t.Parallel()
	g := webhookd.NewIDGenerator(nil)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				id := g.New(webhookd.PrefixDelivery)
				mu.Lock()
				if seen[id] {
					t.Errorf("duplicate id %q", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestHasPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"ep_01m8ckqefr5y1gavn53nmhenm6", true},
		{"evt_01m8ckqefr5y1gavn53nmhenm6", false}, // other prefix
		{"ep_01m8ckqefr5y1gavn53nmhenm", false},   // short
		{"ep_01m8ckqefr5y1gavn53nmhenmu", false},  // u is not Crockford
		{"ep01m8ckqefr5y1gavn53nmhenm6x", false},  // no separator
		{"ep_01M8CKQEFR5Y1GAVN53NMHENM6", false},  // upper case is not ours
		{"", false},
	}
	for _, tc := range tests {
		if got := webhookd.HasPrefix(tc.id, webhookd.PrefixEndpoint); got != tc.want {
			t.Errorf("HasPrefix(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
