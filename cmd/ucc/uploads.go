package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ucc-video/ucc/internal/config"
	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/uploads"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/storage/fs"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/s3"
)

// openUploads builds the resumable upload service on the store's multipart driver.
func openUploads(cfg config.Config, log *slog.Logger, db *postgres.DB, store objects.Store, fin uploads.Finisher) (*uploads.Service, error) {
	var parts uploads.Parts
	switch st := store.(type) {
	case *s3.Store:
		parts = st.Multipart()
	case *fs.Store:
		mp, err := st.Multipart()
		if err != nil {
			return nil, fmt.Errorf("UCC_STORAGE_DIR: %w", err)
		}
		parts = mp
	default:
		return nil, fmt.Errorf("uploads: no multipart driver for %T", store)
	}
	return uploads.NewService(postgres.NewUploads(db), parts, store, fin, uploads.Config{
		MaxBytes: cfg.UploadMaxBytes, QuotaBytes: cfg.UploadQuotaBytes, Log: log,
	}, time.Now), nil
}

// uploadFinisher hands completed resumable uploads to the videos service,
// which probes the file and creates the video and its processing job.
type uploadFinisher struct{ videos *videos.Service }

var _ uploads.Preflighter = uploadFinisher{}

// PreflightUpload refuses an upload at creation, before any byte is sent,
// when the creator has no channel or a full quota.
func (f uploadFinisher) PreflightUpload(ctx context.Context, creatorID int64) error {
	return f.videos.PreflightUpload(ctx, creatorID)
}

// FinishUpload creates the video from the uploaded object.
func (f uploadFinisher) FinishUpload(ctx context.Context, in uploads.Finished) (string, error) {
	v, err := f.videos.CreateFromUpload(ctx, videos.FinishedUpload{CreatorID: in.CreatorID, ObjectKey: in.ObjectKey,
		Size: in.Size, Title: in.Title, Description: in.Description, Visibility: in.Visibility})
	return v.PublicID, err
}
