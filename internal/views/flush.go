package views

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

// Flusher moves pending counts from the Counter to the Store.
//
// One round: take the cluster-wide flusher lock (a PostgreSQL session
// advisory lock, so a crashed process's lock dies with its connection);
// finish every set left swapped aside by an earlier crash; swap the pending
// set aside under its batch id (given when its first view was counted; an
// atomic RENAME); apply it together with that id in one transaction; drop
// the swapped set. A set whose id is already recorded is only dropped, so a
// crash at any point neither loses nor doubles a view, and neither does a
// Redis failover or snapshot restore that brings back a set already applied
// (docs/faults.md). The lock only saves wasted work: the unique id alone
// already makes a double apply impossible.
type Flusher struct {
	counter Counter
	store   Store
	metrics *Metrics
	log     *slog.Logger
	every   time.Duration
	now     func() time.Time
}

// NewFlusher returns a Flusher that runs every interval.
func NewFlusher(counter Counter, store Store, m *Metrics, log *slog.Logger, every time.Duration, now func() time.Time) *Flusher {
	if now == nil {
		now = time.Now
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Flusher{counter: counter, store: store, metrics: m, log: log, every: every, now: now}
}

// FlushStats says what one round did.
type FlushStats struct {
	Sets  int   // swapped sets applied
	Views int64 // views applied
	Busy  bool  // another process holds the flusher lock
}

func (f *Flusher) newFlushID() string { return NewBatchID(f.now()) }

// NewBatchID returns a fresh id for a set of pending views: the time, then
// 64 random bits. The counting script stores it in the pending set when the
// set's first view is counted (later views leave it), and the flusher
// applies the set under it: the id is born with the set, so every copy of
// the set (a replica promoted by a failover, a restored snapshot) carries
// it, and PostgreSQL's record of applied ids stops a second apply.
func NewBatchID(now time.Time) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return strconv.FormatInt(now.UnixMilli(), 10) + "-" + hex.EncodeToString(b)
}

// Flush runs one round.
func (f *Flusher) Flush(ctx context.Context) (FlushStats, error) {
	var st FlushStats
	unlock, ok, err := f.store.TryLockFlush(ctx)
	if err != nil {
		return st, fmt.Errorf("views: flush lock: %w", err)
	}
	if !ok {
		st.Busy = true
		return st, nil
	}
	defer unlock()
	left, err := f.counter.Swapped(ctx)
	if err != nil {
		return st, fmt.Errorf("views: list swapped sets: %w", err)
	}
	for _, id := range left {
		if err := f.finish(ctx, id, &st); err != nil {
			return st, err
		}
	}
	id, swapped, err := f.counter.Swap(ctx, f.newFlushID())
	if err != nil {
		return st, fmt.Errorf("views: swap pending: %w", err)
	}
	if swapped {
		if err := f.finish(ctx, id, &st); err != nil {
			return st, err
		}
	}
	f.updateLag(ctx)
	return st, nil
}

// finish applies the set swapped aside under id (unless already recorded)
// and drops it.
func (f *Flusher) finish(ctx context.Context, id string, st *FlushStats) error {
	b, err := f.counter.Batch(ctx, id)
	if err != nil {
		return fmt.Errorf("views: read swapped set %s: %w", id, err)
	}
	applied, err := f.store.Apply(ctx, id, b)
	if err != nil {
		return fmt.Errorf("views: apply flush %s: %w", id, err)
	}
	if applied {
		st.Sets++
		st.Views += b.Views()
		f.metrics.flushed.Add(float64(b.Views()))
	}
	if err := f.counter.Drop(ctx, id); err != nil {
		return fmt.Errorf("views: drop swapped set %s: %w", id, err)
	}
	return nil
}

func (f *Flusher) updateLag(ctx context.Context) {
	t, ok, err := f.counter.OldestPending(ctx)
	switch {
	case err != nil:
		return
	case !ok:
		f.metrics.flushLag.Set(0)
	default:
		f.metrics.flushLag.Set(f.now().Sub(t).Seconds())
	}
}

// Run flushes every interval until ctx ends, then flushes once more (with
// up to finalTimeout) so a clean shutdown leaves nothing pending.
func (f *Flusher) Run(ctx context.Context, finalTimeout time.Duration) {
	t := time.NewTicker(f.every)
	defer t.Stop()
	f.round(ctx)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalTimeout)
			st, err := f.Flush(fctx)
			cancel()
			if err != nil {
				f.log.Warn("final view flush failed; the pending views stay in Redis for the next start", "err", err)
			} else {
				f.log.Info("final view flush", "views", st.Views, "sets", st.Sets, "busy", st.Busy)
			}
			return
		case <-t.C:
			f.round(ctx)
		}
	}
}

func (f *Flusher) round(ctx context.Context) {
	st, err := f.Flush(ctx)
	if err != nil {
		if ctx.Err() == nil {
			f.log.Warn("view flush failed; will retry", "err", err)
		}
		return
	}
	if st.Views > 0 {
		f.log.Debug("views flushed", "views", st.Views, "sets", st.Sets)
	}
}
