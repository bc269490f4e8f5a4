package main

import (
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func minioClient(c s3Conf) (*minio.Client, error) {
	return minio.New(c.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Region:       c.Region,
		BucketLookup: minio.BucketLookupPath,
	})
}

// removeBucket deletes every object of bucket (and unfinished multipart
// uploads), then the bucket.
func removeBucket(ctx context.Context, c s3Conf, bucket string) error {
	mc, err := minioClient(c)
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
