package s3

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/uploads"
)

// Multipart drives S3 multipart uploads with minio-go's Core API, for
// resumable uploads: parts are streamed straight to the bucket.
type Multipart struct{ s *Store }

var _ uploads.Parts = (*Multipart)(nil)

// Multipart returns the store's multipart driver.
func (s *Store) Multipart() *Multipart { return &Multipart{s: s} }

// Begin starts a multipart upload that will become key.
func (m *Multipart) Begin(ctx context.Context, key string) (string, error) {
	if err := objects.ValidateKey(key); err != nil {
		return "", err
	}
	id, err := m.s.core.NewMultipartUpload(ctx, m.s.bucket, key, minio.PutObjectOptions{ContentType: objects.DefaultContentType})
	if err != nil {
		return "", fmt.Errorf("s3 store: begin multipart %q: %w", key, err)
	}
	return id, nil
}

// PutPart streams exactly size bytes of r as part number.
func (m *Multipart) PutPart(ctx context.Context, key, uploadID string, number int, r io.Reader, size int64) (string, error) {
	exact := &exactReader{r: r, left: size}
	p, err := m.s.core.PutObjectPart(ctx, m.s.bucket, key, uploadID, number, exact, size, minio.PutObjectPartOptions{})
	if merr := exact.mismatch(); merr != nil {
		return "", fmt.Errorf("s3 store: part %d of %q: %w", number, key, merr)
	}
	if err != nil {
		return "", fmt.Errorf("s3 store: part %d of %q: %w", number, key, err)
	}
	if p.Size != size {
		return "", fmt.Errorf("s3 store: part %d of %q stored %d of %d bytes: %w", number, key, p.Size, size, objects.ErrSizeMismatch)
	}
	return p.ETag, nil
}

// Complete assembles parts into key.
func (m *Multipart) Complete(ctx context.Context, key, uploadID string, parts []uploads.Part) error {
	cp := make([]minio.CompletePart, len(parts))
	for i, p := range parts {
		cp[i] = minio.CompletePart{PartNumber: p.Number, ETag: p.ETag}
	}
	if _, err := m.s.core.CompleteMultipartUpload(ctx, m.s.bucket, key, uploadID, cp, minio.PutObjectOptions{}); err != nil {
		return fmt.Errorf("s3 store: complete multipart %q: %w", key, err)
	}
	return nil
}

// Abort drops the upload and its parts; an unknown upload is not an error.
func (m *Multipart) Abort(ctx context.Context, key, uploadID string) error {
	err := m.s.core.AbortMultipartUpload(ctx, m.s.bucket, key, uploadID)
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchUpload {
		return fmt.Errorf("s3 store: abort multipart %q: %w", key, err)
	}
	return nil
}

// StoredParts lists the parts S3 holds for an upload (for checks and tests).
func (m *Multipart) StoredParts(ctx context.Context, key, uploadID string) ([]uploads.Part, error) {
	var out []uploads.Part
	marker := 0
	for {
		res, err := m.s.core.ListObjectParts(ctx, m.s.bucket, key, uploadID, marker, 1000)
		if err != nil {
			return nil, fmt.Errorf("s3 store: list parts of %q: %w", key, err)
		}
		for _, p := range res.ObjectParts {
			out = append(out, uploads.Part{Number: p.PartNumber, Size: p.Size, ETag: p.ETag})
		}
		if !res.IsTruncated {
			return out, nil
		}
		marker = res.NextPartNumberMarker
	}
}

// OpenUploads lists the keys of incomplete multipart uploads under prefix.
func (m *Multipart) OpenUploads(ctx context.Context, prefix string) ([]string, error) {
	res, err := m.s.core.ListMultipartUploads(ctx, m.s.bucket, prefix, "", "", "", 1000)
	if err != nil {
		return nil, fmt.Errorf("s3 store: list multipart uploads: %w", err)
	}
	var keys []string
	for _, u := range res.Uploads {
		keys = append(keys, u.Key)
	}
	return keys, nil
}

var _ objects.IncompleteAborter = (*Store)(nil)

// AbortIncomplete aborts the multipart uploads under prefix initiated before
// before: the parts of a Put whose process died (minio-go streams a body of
// unknown size as a multipart upload and aborts it only if it lives to see
// the error). Stores without a lifecycle rule keep such parts forever.
func (s *Store) AbortIncomplete(ctx context.Context, prefix string, before time.Time) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when we return early
	n := 0
	// MinIO lists incomplete uploads by exact key only, not by a key
	// prefix: list them all and filter here (there are few).
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, "", true) {
		if u.Err != nil {
			return n, fmt.Errorf("s3 store: list incomplete uploads: %w", u.Err)
		}
		if !strings.HasPrefix(u.Key, prefix) || !u.Initiated.Before(before) {
			continue
		}
		err := s.core.AbortMultipartUpload(ctx, s.bucket, u.Key, u.UploadID)
		if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchUpload {
			return n, fmt.Errorf("s3 store: abort incomplete upload of %q: %w", u.Key, err)
		}
		n++
	}
	return n, nil
}
