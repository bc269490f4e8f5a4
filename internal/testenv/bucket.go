package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Client is a minio-go client of the server.
func (s S3) Client() (*minio.Client, error) {
	return minio.New(s.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region:       s.Region,
		BucketLookup: minio.BucketLookupPath,
	})
}

// RemoveBucket deletes every object of bucket and its unfinished multipart
// uploads, then the bucket; a bucket that does not exist is no error.
func (s S3) RemoveBucket(ctx context.Context, bucket string) error {
	mc, err := s.Client()
	if err != nil {
		return err
	}
	ok, err := mc.BucketExists(ctx, bucket)
	if err != nil || !ok {
		return err
	}
	objs := mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true})
	for res := range mc.RemoveObjects(ctx, bucket, objs, minio.RemoveObjectsOptions{}) {
		if res.Err != nil {
			return fmt.Errorf("remove %s: %w", res.ObjectName, res.Err)
		}
	}
	for up := range mc.ListIncompleteUploads(ctx, bucket, "", true) {
		if up.Err != nil {
			return up.Err
		}
		if err := mc.RemoveIncompleteUpload(ctx, bucket, up.Key); err != nil {
			return err
		}
	}
	return mc.RemoveBucket(ctx, bucket)
}

// Bucket names a fresh bucket on the test MinIO for t (ucc, or the
// storage adapter, creates it on first use) and removes it, with all it
// holds, when t ends.
func Bucket(t testing.TB, prefix string) (S3, string) {
	t.Helper()
	srv := S3Server(t)
	name := prefix + RandomHex(6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.RemoveBucket(ctx, name); err != nil {
			t.Logf("remove bucket %s: %v", name, err)
		}
	})
	return srv, name
}
