package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/views"
)

// Views implements views.Store and views.VideoLookup.
type Views struct{ db *DB }

// NewViews returns the PostgreSQL view store.
func NewViews(db *DB) *Views { return &Views{db: db} }

var (
	_ views.Store       = (*Views)(nil)
	_ views.VideoLookup = (*Views)(nil)
)

// flushLockKey is the advisory lock id of the view flusher ("ucc" + 4).
const flushLockKey = 0x75636304

// periodCloseLockKey is the transaction advisory lock between applying a
// flush (shared) and approving a revenue period (exclusive): a flush lands
// wholly before an approval's input check or wholly after it commits.
const periodCloseLockKey = 0x75636305

// flushRetention is how long applied flush ids are remembered. A swapped
// set is finished within one flush interval of a flusher running, so a
// month is far beyond any set that could still be waiting.
const flushRetention = "30 days"

// CountableVideo returns what counting needs to know about a video.
func (s *Views) CountableVideo(ctx context.Context, publicID string) (views.Video, error) {
	var v views.Video
	err := s.db.Pool.QueryRow(ctx, `SELECT id, creator_id, visibility, status, duration_seconds
		FROM videos WHERE public_id = $1`, publicID).Scan(&v.ID, &v.CreatorID, &v.Visibility, &v.Status, &v.DurationSeconds)
	return v, mapErr(err)
}

// Totals returns the lifetime views of each existing video and, in the
// same REPEATABLE READ snapshot, which flush ids from between are recorded.
func (s *Views) Totals(ctx context.Context, ids []int64, between func() []string) (map[int64]int64, map[string]bool, error) {
	out := make(map[int64]int64, len(ids))
	recorded := map[string]bool{}
	err := pgx.BeginTxFunc(ctx, s.db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, views FROM videos WHERE id = ANY($1)`, ids)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, n int64
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return err
			}
			out[id] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if between == nil {
			return nil
		}
		fids := between()
		if len(fids) == 0 {
			return nil
		}
		rows, err = tx.Query(ctx, `SELECT flush_id FROM view_flushes WHERE flush_id = ANY($1)`, fids)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var f string
			if err := rows.Scan(&f); err != nil {
				return err
			}
			recorded[f] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, nil, mapErr(err)
	}
	return out, recorded, nil
}

// Apply adds a flushed batch in one transaction with set-based SQL: one
// UPDATE of lifetime totals and one upsert of daily buckets, each over
// unnest'ed arrays, plus the flush id whose primary key makes a second
// apply of the same set a no-op. Views of a video deleted meanwhile are
// dropped (there is no creator to credit).
func (s *Views) Apply(ctx context.Context, flushID string, b views.Batch) (bool, error) {
	ids := make([]int64, len(b.Totals))
	ns := make([]int64, len(b.Totals))
	for i, d := range b.Totals {
		ids[i], ns[i] = d.VideoID, d.Views
	}
	dids := make([]int64, len(b.Daily))
	days := make([]time.Time, len(b.Daily))
	dns := make([]int64, len(b.Daily))
	for i, d := range b.Daily {
		dids[i], days[i], dns[i] = d.VideoID, d.Day, d.Views
	}
	applied := false
	err := s.db.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO view_flushes (flush_id, videos, views) VALUES ($1, $2, $3)
			ON CONFLICT (flush_id) DO NOTHING`, flushID, len(ids), b.Views())
		if err != nil {
			return fmt.Errorf("record flush: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil // already applied
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1)`, int64(periodCloseLockKey)); err != nil {
			return fmt.Errorf("period close lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE videos v SET views = v.views + d.n
			FROM unnest($1::bigint[], $2::bigint[]) AS d(id, n)
			WHERE v.id = d.id`, ids, ns); err != nil {
			return fmt.Errorf("add totals: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO video_views_daily (video_id, creator_id, day, views)
			SELECT d.id, v.creator_id, d.day, d.n
			FROM unnest($1::bigint[], $2::date[], $3::bigint[]) AS d(id, day, n)
			JOIN videos v ON v.id = d.id
			ON CONFLICT (video_id, day) DO UPDATE SET views = video_views_daily.views + excluded.views`,
			dids, days, dns); err != nil {
			return fmt.Errorf("add daily buckets: %w", err)
		}
		if err := recordLateViews(ctx, tx, flushID, dids, days, dns); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM view_flushes WHERE applied_at < now() - $1::interval`, flushRetention); err != nil {
			return fmt.Errorf("prune flush ids: %w", err)
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, mapErr(err)
	}
	return applied, nil
}

// recordLateViews writes the batch's views dated before the end of the last
// approved revenue period to revenue_late_views, and one audit entry on
// each approved period they are dated in: they arrived after the period's
// payouts were frozen, so they are shown and reconciled, never folded in.
func recordLateViews(ctx context.Context, tx pgx.Tx, flushID string, ids []int64, days []time.Time, ns []int64) error {
	tag, err := tx.Exec(ctx, `INSERT INTO revenue_late_views (video_id, creator_id, day, views, flush_id)
		SELECT d.id, v.creator_id, d.day, d.n, $4
		FROM unnest($1::bigint[], $2::date[], $3::bigint[]) AS d(id, day, n)
		JOIN videos v ON v.id = d.id
		WHERE d.n > 0 AND d.day < (SELECT max(ends_on) FROM revenue_periods WHERE status IN ('approved', 'paid'))`,
		ids, days, ns, flushID)
	if err != nil {
		return fmt.Errorf("record late views: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO revenue_audit (period_id, actor_id, actor, action, detail, at)
		SELECT p.id, NULL, 'view flusher', 'late_views',
			format('%s views of %s creators dated in this approved period arrived after its approval (flush %s); they are not in the payouts: record an adjustment if they are to be paid', sum(l.views), count(DISTINCT l.creator_id), $1::text),
			now()
		FROM revenue_late_views l
		JOIN revenue_periods p ON l.day >= p.starts_on AND l.day < p.ends_on AND p.status IN ('approved', 'paid')
		WHERE l.flush_id = $1
		GROUP BY p.id`, flushID); err != nil {
		return fmt.Errorf("audit late views: %w", err)
	}
	return nil
}

// Recorded implements views.Store.
func (s *Views) Recorded(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	rows, err := s.db.Pool.Query(ctx, `SELECT flush_id FROM view_flushes WHERE flush_id = ANY($1)`, ids)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, mapErr(err)
		}
		out[f] = true
	}
	return out, mapErr(rows.Err())
}

// FlushApplied reports whether flushID is recorded as applied.
func (s *Views) FlushApplied(ctx context.Context, flushID string) (bool, error) {
	var ok bool
	err := s.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM view_flushes WHERE flush_id = $1)`, flushID).Scan(&ok)
	return ok, mapErr(err)
}

// TryLockFlush takes the flusher's session advisory lock on a dedicated
// connection; the lock dies with the connection if the process crashes.
func (s *Views) TryLockFlush(ctx context.Context) (func(), bool, error) {
	conn, err := s.db.Pool.Acquire(ctx)
	if err != nil {
		return nil, false, mapErr(err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(flushLockKey)).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, mapErr(err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, int64(flushLockKey)); err != nil {
			// Closing the connection releases the lock for sure.
			_ = conn.Conn().Close(uctx)
		}
		conn.Release()
	}, true, nil
}
