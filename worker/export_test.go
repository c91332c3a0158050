package worker

import "time"

// SetEngineHooks has an engine built from c call claimed after each claim
// from the schedule and reconciled after each complete reconcile pass (see
// engineHooks), so that tests of what the engine must not do wait for it to
// have looked instead of sleeping.
func SetEngineHooks(c *EngineConfig, claimed func(now time.Time, n int), reconciled func(added int64)) {
	c.hooks = engineHooks{claimed: claimed, reconciled: reconciled}
}
