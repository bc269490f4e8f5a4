package redis

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/videos"
)

// Announcer broadcasts hidden videos to every UCC process over Redis
// pub/sub, so each drops them from its in-process caches at once.
type Announcer struct {
	rdb     goredis.UniversalClient
	channel string
}

var _ videos.Announcer = (*Announcer)(nil)

// NewAnnouncer returns the announcer on channel "<prefix>:{videos}:hidden".
func NewAnnouncer(rdb goredis.UniversalClient, prefix string) *Announcer {
	return &Announcer{rdb: rdb, channel: Keys{Prefix: prefix}.Key("videos", "hidden")}
}

// Announce publishes "<videoID> <publicID>".
func (a *Announcer) Announce(ctx context.Context, videoID int64, publicID string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return a.rdb.Publish(ctx, a.channel, strconv.FormatInt(videoID, 10)+" "+publicID).Err()
}

// Listen calls evict for every announcement until ctx ends; go-redis
// re-subscribes by itself after a lost connection.
func (a *Announcer) Listen(ctx context.Context, log *slog.Logger, evict func(videoID int64, publicID string)) {
	sub := a.rdb.Subscribe(ctx, a.channel)
	defer sub.Close()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			id, pub, _ := strings.Cut(m.Payload, " ")
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil || !videos.ValidPublicID(pub) {
				log.Warn("ignored a malformed hidden-video announcement", "payload", m.Payload)
				continue
			}
			evict(n, pub)
		}
	}
}
