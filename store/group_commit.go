package store

// groupCommit is the loop of a publish batcher (publish_batch_postgres.go,
// publish_batch_sqlite.go): it takes a call off queue, adds every call that
// queued up meanwhile, up to most, and hands them to flush together, so that
// callers arriving while a write runs share the next one. When quit closes,
// the calls still queued, and one taken as it closed, are answered by
// refuse instead of being written.
func groupCommit[C any](queue <-chan C, quit <-chan struct{}, most int, flush func([]C), refuse func(C)) {
	for {
		var first C
		select {
		case first = <-queue:
		case <-quit:
			for { // calls queued before the store closed still get an answer
				select {
				case c := <-queue:
					refuse(c)
				default:
					return
				}
			}
		}
		select {
		case <-quit: // the store closed while this call waited
			refuse(first)
			continue
		default:
		}
		batch := []C{first}
	gather:
		for len(batch) < most {
			select {
			case c := <-queue:
				batch = append(batch, c)
			default:
				break gather
			}
		}
		flush(batch)
	}
}
