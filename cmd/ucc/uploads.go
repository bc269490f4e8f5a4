package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/ucc-video/ucc/internal/config"
	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/uploads"
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
		MaxBytes: cfg.UploadMaxBytes, QuotaBytes: cfg.UploadQuotaBytes, MaxOpen: cfg.UploadMaxOpen, Log: log,
	}, time.Now), nil
}
