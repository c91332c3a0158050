package worker

import (
	"testing"
	"time"
)

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// Outcomes that trickle in are recorded together when few are queued, a
// full queue is taken at once up to the batch bound, and the wait ends at
// its deadline or when the channel closes.
func TestGatherOutcomes(t *testing.T) {
	t.Parallel()
	t.Run("trickle", func(t *testing.T) {
		t.Parallel()
		ch := make(chan *outcome)
		go func() {
			for range recordLingerBelow - 1 {
				time.Sleep(time.Millisecond)
				ch <- &outcome{}
			}
		}()
		// Without the wait the batch would be the first outcome alone.
		if got := gatherOutcomes([]*outcome{{}}, ch, stoppedTimer(), time.Minute); len(got) != recordLingerBelow {
			t.Errorf("batch of %d outcomes, want %d", len(got), recordLingerBelow)
		}
	})
	t.Run("queued", func(t *testing.T) {
		t.Parallel()
		ch := make(chan *outcome, 2*maxRecordBatch)
		for range 2 * maxRecordBatch {
			ch <- &outcome{}
		}
		if got := gatherOutcomes([]*outcome{{}}, ch, stoppedTimer(), time.Minute); len(got) != maxRecordBatch {
			t.Errorf("batch of %d outcomes, want %d", len(got), maxRecordBatch)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		ch := make(chan *outcome, 1)
		ch <- &outcome{}
		if got := gatherOutcomes([]*outcome{{}}, ch, stoppedTimer(), time.Millisecond); len(got) != 2 {
			t.Errorf("batch of %d outcomes, want 2", len(got))
		}
	})
	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		ch := make(chan *outcome, 1)
		ch <- &outcome{}
		close(ch)
		if got := gatherOutcomes([]*outcome{{}}, ch, stoppedTimer(), time.Minute); len(got) != 2 {
			t.Errorf("batch of %d outcomes, want 2", len(got))
		}
	})
}
