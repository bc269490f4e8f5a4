// Package redistest connects tests to the real Redis under a key prefix of
// their own, deleting the prefix's keys when the test ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/testenv"
	uccredis "github.com/ucc-video/ucc/storage/redis"
)

// Client returns a client and a fresh key prefix for t.
func Client(t testing.TB) (*goredis.Client, string) {
	t.Helper()
	url := testenv.RedisURL(t)
	c, err := uccredis.Open(context.Background(), url)
	if err != nil {
		testenv.Missing(t, "%v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	prefix := "ucctest" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}
