package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/uploads"
)

// Uploads implements uploads.Store.
type Uploads struct{ db *DB }

// NewUploads returns the PostgreSQL upload session store.
func NewUploads(db *DB) *Uploads { return &Uploads{db: db} }

var _ uploads.Store = (*Uploads)(nil)

// uploadQuotaLock is the first key of the per-creator advisory lock that
// serialises quota checks.
const uploadQuotaLock = 0x75706c64

const uploadCols = `id, creator_id, upload_length, upload_offset, part_size, metadata, object_key,
	multipart_id, parts, tail_key, tail_size, created_at, expires_at`

func scanUpload(row pgx.Row) (uploads.Session, error) {
	var s uploads.Session
	var meta, parts []byte
	err := row.Scan(&s.ID, &s.CreatorID, &s.Length, &s.Offset, &s.PartSize, &meta, &s.ObjectKey,
		&s.MultipartID, &parts, &s.TailKey, &s.TailSize, &s.CreatedAt, &s.ExpiresAt)
	if err != nil {
		return s, mapErr(err)
	}
	if err := json.Unmarshal(meta, &s.Metadata); err != nil {
		return s, fmt.Errorf("upload %s: metadata: %w", s.ID, err)
	}
	if err := json.Unmarshal(parts, &s.Parts); err != nil {
		return s, fmt.Errorf("upload %s: parts: %w", s.ID, err)
	}
	return s, nil
}

// Create inserts s when the creator's videos plus open sessions plus s fit in quota.
func (u *Uploads) Create(ctx context.Context, s uploads.Session, quota int64, maxOpen int) (used int64, ok bool, err error) {
	meta, err := json.Marshal(s.Metadata)
	if err != nil {
		return 0, false, err
	}
	parts, err := json.Marshal(s.Parts)
	if err != nil {
		return 0, false, err
	}
	err = u.db.InTx(ctx, func(tx pgx.Tx) error {
		// One creator's concurrent creations check the quota one at a time.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, ($2 % 2147483647)::int)`, uploadQuotaLock, s.CreatorID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `
			SELECT coalesce((SELECT sum(original_size) FROM videos WHERE creator_id = $1), 0)
			     + coalesce((SELECT sum(r.size_bytes) FROM renditions r JOIN videos v ON v.id = r.video_id WHERE v.creator_id = $1), 0)
			     + coalesce((SELECT sum(upload_length) FROM upload_sessions WHERE creator_id = $1), 0)`,
			s.CreatorID).Scan(&used); err != nil {
			return err
		}
		if maxOpen > 0 {
			var open int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM upload_sessions WHERE creator_id = $1 AND expires_at > $2`,
				s.CreatorID, s.CreatedAt).Scan(&open); err != nil {
				return err
			}
			if open >= maxOpen {
				return uploads.ErrTooManySessions
			}
		}
		if quota > 0 && used+s.Length > quota {
			return nil
		}
		ok = true
		_, err := tx.Exec(ctx, `
			INSERT INTO upload_sessions (id, creator_id, upload_length, part_size, metadata, object_key,
				multipart_id, parts, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			s.ID, s.CreatorID, s.Length, s.PartSize, string(meta), s.ObjectKey, s.MultipartID, string(parts), s.CreatedAt, s.ExpiresAt)
		return err
	})
	if err != nil {
		return 0, false, mapErr(err)
	}
	return used, ok, nil
}

// Get returns a session.
func (u *Uploads) Get(ctx context.Context, id string) (uploads.Session, error) {
	return scanUpload(u.db.Pool.QueryRow(ctx, `SELECT `+uploadCols+` FROM upload_sessions WHERE id = $1`, id))
}

// NextPartNumber reserves the next part number.
func (u *Uploads) NextPartNumber(ctx context.Context, id string) (int, error) {
	var n int
	err := u.db.Pool.QueryRow(ctx, `UPDATE upload_sessions SET next_part = next_part + 1 WHERE id = $1 RETURNING next_part`, id).Scan(&n)
	return n, mapErr(err)
}

// Advance records a part and/or tail, moving the offset only from oldOffset.
func (u *Uploads) Advance(ctx context.Context, id string, oldOffset int64, a uploads.Advance) error {
	var part *string
	if a.Part != nil {
		b, err := json.Marshal([]uploads.Part{*a.Part})
		if err != nil {
			return err
		}
		s := string(b)
		part = &s
	}
	tag, err := u.db.Pool.Exec(ctx, `
		UPDATE upload_sessions
		SET upload_offset = $3,
		    parts = CASE WHEN $4::jsonb IS NULL THEN parts ELSE parts || $4::jsonb END,
		    tail_key = $5, tail_size = $6
		WHERE id = $1 AND upload_offset = $2`, id, oldOffset, a.NewOffset, part, a.TailKey, a.TailSize)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: upload %s is no longer at offset %d", errs.ErrConflict, id, oldOffset)
	}
	return nil
}

// ClaimFinish takes the finishing lease unless another request holds it.
func (u *Uploads) ClaimFinish(ctx context.Context, id string, now, until time.Time) (bool, error) {
	tag, err := u.db.Pool.Exec(ctx, `
		UPDATE upload_sessions SET finishing_until = $3
		WHERE id = $1 AND (finishing_until IS NULL OR finishing_until <= $2)`, id, now, until)
	if err != nil {
		return false, mapErr(err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseFinish drops the finishing lease.
func (u *Uploads) ReleaseFinish(ctx context.Context, id string) error {
	_, err := u.db.Pool.Exec(ctx, `UPDATE upload_sessions SET finishing_until = NULL WHERE id = $1`, id)
	return mapErr(err)
}

// Delete removes a session.
func (u *Uploads) Delete(ctx context.Context, id string) error {
	_, err := u.db.Pool.Exec(ctx, `DELETE FROM upload_sessions WHERE id = $1`, id)
	return mapErr(err)
}

// Expired returns sessions past their expiry that nobody is finishing, oldest first.
func (u *Uploads) Expired(ctx context.Context, now time.Time, limit int) ([]uploads.Session, error) {
	rows, err := u.db.Pool.Query(ctx, `
		SELECT `+uploadCols+` FROM upload_sessions
		WHERE expires_at <= $1 AND (finishing_until IS NULL OR finishing_until <= $1)
		ORDER BY expires_at LIMIT $2`, now, limit)
	return collect(rows, err, scanUpload)
}
