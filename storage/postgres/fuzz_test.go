package postgres_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/storage/fs"
	"github.com/ucc-video/ucc/storage/postgres"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	uccredis "github.com/ucc-video/ucc/storage/redis"
	"github.com/ucc-video/ucc/storage/redis/redistest"
)

// fuzzCommunity is a migrated database with a few channels, videos, a
// comment thread, a like and a subscription, and the community service on it.
type fuzzCommunity struct {
	store                *postgres.Community
	svc                  *community.Service
	user, channel, video int64
	comment              int64
	publicID             string
}

func newFuzzCommunity(f *testing.F) *fuzzCommunity {
	f.Helper()
	db := pgtest.DB(f)
	ctx := context.Background()
	st, err := fs.New(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	rdb, prefix := redistest.Client(f)
	vstore := postgres.NewViews(db)
	counts := views.NewService(views.Config{Secret: []byte("0123456789abcdef0123456789abcdef")}, vstore,
		uccredis.NewViewCounter(rdb, prefix, time.Second), vstore, nil, time.Now)
	vs, err := videos.NewService(videos.Config{Store: postgres.NewVideos(db), Objects: st, Views: counts, MaxUploadBytes: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	fc := &fuzzCommunity{store: postgres.NewCommunity(db)}
	fc.svc = community.NewService(fc.store, vs, nil, community.DefaultConfig(), time.Now)
	q := func(sql string, args ...any) int64 {
		var id int64
		if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&id); err != nil {
			f.Fatalf("%s: %v", sql, err)
		}
		return id
	}
	fc.user = q(`INSERT INTO users (email, display_name, password_hash, role) VALUES ('c@example.com', 'C', 'x', 'creator') RETURNING id`)
	fc.channel = q(`INSERT INTO channels (owner_id, handle, name, description) VALUES ($1, 'cooking', 'Cooking with C', 'pasta & sauces') RETURNING id`, fc.user)
	texts := []struct{ title, desc string }{
		{"How to cook pasta", "Boil water; add salt & pasta. \"al dente\" -- not mushy!"},
		{"Tomato sauce (quick)", "tomatoes | garlic & basil: 10 minutes <b>only</b>"},
		{"日本のラーメン", "スープ と 麺"},
		{"C'est la vie: crêpes", "farine, œufs, lait; O'Brien's recipe"},
		{"통기타 연주 guitar", "기타를 배우는 법: 코드 C와 G"},
	}
	for i, tx := range texts {
		id := q(`INSERT INTO videos (public_id, channel_id, creator_id, title, description, visibility, status, duration_seconds, published_at)
			VALUES ($1, $2, $3, $4, $5, 'public', 'ready', 60, now() - make_interval(mins => $6)) RETURNING id`,
			"fuzzvideo0"+string(rune('a'+i)), fc.channel, fc.user, tx.title, tx.desc, i)
		if i == 0 {
			fc.video, fc.publicID = id, "fuzzvideo0a"
		}
	}
	fc.comment = q(`INSERT INTO comments (video_id, user_id, body) VALUES ($1, $2, 'first') RETURNING id`, fc.video, fc.user)
	q(`INSERT INTO comments (video_id, user_id, parent_id, body) VALUES ($1, $2, $3, 'reply') RETURNING id`, fc.video, fc.user, fc.comment)
	if _, err := fc.store.React(ctx, fc.user, fc.video, community.ReactionLike); err != nil {
		f.Fatal(err)
	}
	if _, err := fc.store.Subscribe(ctx, fc.user, fc.channel, true); err != nil {
		f.Fatal(err)
	}
	return fc
}

// noSQLError fails unless err is nil or a person-readable ErrInvalid.
func noSQLError(t *testing.T, what string, err error) {
	t.Helper()
	var e *errs.Error
	if err != nil && !(errors.Is(err, errs.ErrInvalid) && errors.As(err, &e)) {
		t.Fatalf("%s: %v", what, err)
	}
}

// FuzzSearchPostgres runs arbitrary search queries and page offsets through
// the community service and the store against the real PostgreSQL: no input
// may make the SQL fail.
func FuzzSearchPostgres(f *testing.F) {
	fc := newFuzzCommunity(f)
	for _, s := range []string{"pasta", "\"al dente\"", "-pasta", "pasta OR sauce", "or or or", "\"", "'", "''", "\\", "&|!",
		"a:*", "!(a & b)", "<->", "'; DROP TABLE videos; --", "%_", "\x00", "a\xffb", "ラーメン", "crêpes", "@cooking",
		"기타", "기타를", "-기타", "-기타 -통기타", "기타 -guitar", "guitar -기타", "\"통기타 연주\"", "K팝", "기타:*", "가", "을", "'기타'", "기타 OR 연주",
		strings.Repeat("x", 5000), strings.Repeat("\"a\" ", 300), "1e308", "NULL", "$1", ":", "::text"} {
		f.Add(s, uint16(0))
	}
	f.Add("pasta", uint16(10000))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, q string, offset uint16) {
		cur := community.Cursor{Offset: int(offset % 10001)}
		_, err := fc.svc.Search(ctx, q, cur, int(offset%60))
		noSQLError(t, "Search("+q+")", err)
		nq := community.NormalizeQuery(q)
		if nq == "" {
			return
		}
		_, err = fc.store.SearchVideos(ctx, nq, cur.Offset, community.MaxLimit+1)
		noSQLError(t, "SearchVideos("+nq+")", err)
	})
}

// FuzzCursorPostgres runs every list that takes a cursor with arbitrary
// cursors: ParseCursor refuses with ErrInvalid or the SQL runs. Each input
// is a raw cursor string, or (when raw is empty) a well-formed keyset or
// offset cursor built from arbitrary numbers, so the SQL sees extreme
// times, ids and offsets, not just strings that fail to parse.
func FuzzCursorPostgres(f *testing.F) {
	fc := newFuzzCommunity(f)
	for _, c := range []community.Cursor{{}, {Offset: 1}, {Offset: 10000}, {AfterAt: time.Now(), AfterID: 1 << 62},
		{AfterAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), AfterID: 1}} {
		f.Add(c.String(), false, int64(0), int64(0))
	}
	for _, raw := range []string{"k:-9223372036854775808:1", "k:9223372036854775807:9223372036854775807", "k:0:0", "k:-1:0",
		"k:253402300800000000:1", "k:-62135596800000001:1", "o:0"} {
		f.Add(b64(raw), false, int64(0), int64(0))
	}
	f.Add("", true, int64(253402300799999999), int64(9223372036854775807))
	f.Add("", true, int64(-62135596800000000), int64(0))
	f.Add("", false, int64(10000), int64(0))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s string, keyset bool, a, b int64) {
		if s == "" {
			if keyset {
				s = b64(fmt.Sprintf("k:%d:%d", a, b))
			} else {
				s = b64(fmt.Sprintf("o:%d", a))
			}
		}
		cur, err := community.ParseCursor(s)
		if err != nil {
			noSQLError(t, "ParseCursor", err)
			return
		}
		const n = community.MaxLimit + 1
		_, err = fc.store.RecentVideos(ctx, cur, n)
		noSQLError(t, "RecentVideos", err)
		for _, sort := range []community.Sort{community.SortNewest, community.SortPopular} {
			_, err = fc.store.ChannelVideos(ctx, fc.channel, sort, cur, n)
			noSQLError(t, "ChannelVideos "+string(sort), err)
		}
		_, err = fc.store.FeedVideos(ctx, fc.user, cur, n)
		noSQLError(t, "FeedVideos", err)
		_, _, err = fc.store.LikedVideos(ctx, fc.user, cur, n)
		noSQLError(t, "LikedVideos", err)
		for _, sort := range []community.Sort{community.SortNewest, community.SortTop} {
			_, err = fc.store.Comments(ctx, fc.video, sort, cur, n, community.RepliesPreview)
			noSQLError(t, "Comments "+string(sort), err)
		}
		_, err = fc.store.Replies(ctx, fc.comment, cur.AfterID, n)
		noSQLError(t, "Replies", err)
		_, err = fc.store.TrendingVideos(ctx, time.Now().AddDate(0, 0, -7), cur.Offset, n)
		noSQLError(t, "TrendingVideos", err)
	})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
