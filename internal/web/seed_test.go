package web

import (
	"context"
	"fmt"
	"time"
)

// seedChannel inserts a channel owned by ownerID and returns its id.
func (ts *testServer) seedChannel(ownerID int64, handle, name, description string) int64 {
	ts.t.Helper()
	var id int64
	if err := ts.db.Pool.QueryRow(context.Background(), `INSERT INTO channels (owner_id, handle, name, description)
		VALUES ($1, $2, $3, $4) RETURNING id`, ownerID, handle, name, description).Scan(&id); err != nil {
		ts.t.Fatal(err)
	}
	return id
}

// seedVideo describes a video row to insert.
type seedVideo struct {
	Channel     int64
	Creator     int64
	Title       string
	Description string
	Visibility  string // default public
	Status      string // default ready
	Published   time.Time
	Views       int64
	Renditions  []int // heights
}

var seedCounter int

// seedVideo inserts v and returns its internal and public ids.
func (ts *testServer) seedVideo(v seedVideo) (int64, string) {
	ts.t.Helper()
	seedCounter++
	pub := fmt.Sprintf("vid%08d", seedCounter)
	if v.Visibility == "" {
		v.Visibility = "public"
	}
	if v.Status == "" {
		v.Status = "ready"
	}
	if v.Published.IsZero() {
		v.Published = time.Now().Add(-time.Duration(1000-seedCounter%1000) * time.Minute)
	}
	var id int64
	ctx := context.Background()
	if err := ts.db.Pool.QueryRow(ctx, `INSERT INTO videos (public_id, channel_id, creator_id, title, description,
		visibility, status, duration_seconds, width, height, views, thumbnail_key, published_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 95, 1280, 720, $8, $9, $10) RETURNING id`,
		pub, v.Channel, v.Creator, v.Title, v.Description, v.Visibility, v.Status, v.Views,
		"videos/"+pub+"/thumb.jpg", v.Published).Scan(&id); err != nil {
		ts.t.Fatal(err)
	}
	for _, h := range v.Renditions {
		if _, err := ts.db.Pool.Exec(ctx, `INSERT INTO renditions (video_id, height, width, object_key, size_bytes)
			VALUES ($1, $2, $3, $4, 1000)`, id, h, h*16/9, fmt.Sprintf("videos/%s/%dp.mp4", pub, h)); err != nil {
			ts.t.Fatal(err)
		}
	}
	return id, pub
}

// counters reads a video's stored counters.
func (ts *testServer) counters(videoID int64) (likes, dislikes, comments int64) {
	ts.t.Helper()
	if err := ts.db.Pool.QueryRow(context.Background(), `SELECT likes, dislikes, comment_count FROM videos WHERE id = $1`,
		videoID).Scan(&likes, &dislikes, &comments); err != nil {
		ts.t.Fatal(err)
	}
	return
}

// creatorWithVideo makes a creator with a channel and one public video.
func (ts *testServer) creatorWithVideo(email, handle string) (tok string, uid, chID, vid int64, pub string) {
	ts.t.Helper()
	tok, uid = ts.user(email, "creator")
	chID = ts.seedChannel(uid, handle, "Channel "+handle, "")
	vid, pub = ts.seedVideo(seedVideo{Channel: chID, Creator: uid, Title: "Video of " + handle})
	return
}
