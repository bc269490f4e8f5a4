package systemtest

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
)

// TestSplitRoles runs UCC as operators split it: one `ucc serve --role web`
// (HTTP only, no job workers, no view flusher) and one `--role worker` on
// the same database, Redis prefix and bucket. An upload answered by the web
// process becomes ready only through the worker's transcode job, and a view
// counted by the web process reaches PostgreSQL through the worker's
// flusher. Both stop cleanly.
func TestSplitRoles(t *testing.T) {
	systemTest(t)
	e := newSysEnv(t)
	ctx := context.Background()
	env := e.serveEnv(t, e.Bucket.S3.Endpoint, nil)
	web := newRoleUCC(t, "web", env)
	web.Start()
	creator := testenv.SignUp(t, web.Base, "split@example.com", "splitter")
	clip, err := os.ReadFile(testenv.ClipFile(t, smallClip))
	if err != nil {
		t.Fatal(err)
	}
	vid := creator.MustUpload(t, "Split roles", clip)
	time.Sleep(2 * time.Second) // a web process alone never transcodes
	var status string
	if err := e.DB.QueryRow(ctx, `SELECT status FROM videos WHERE public_id = $1`, vid).Scan(&status); err != nil || status == "ready" {
		t.Fatalf("video %s is %q (%v) with no worker running", vid, status, err)
	}

	// A worker has no /readyz: it is ready when it logs so, at level info.
	worker := newRoleUCC(t, "worker", mergeEnv(env, map[string]string{"UCC_LOG_LEVEL": "info"}))
	worker.Start()
	took := waitStatus(t, ctx, e.DB, vid, "ready", 2*time.Minute)

	anon := testenv.NewClient(web.Base)
	r := anon.Must(t, http.StatusOK, "GET", "/api/v1/videos/"+vid+"/play", nil)
	play, err := testenv.DecodePlay(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	r = anon.Must(t, http.StatusOK, "POST", "/api/v1/videos/"+vid+"/views", map[string]string{"play_token": play.Token},
		"X-UCC-Viewer", r.Header.Get("X-UCC-Viewer"))
	if v, err := testenv.DecodeViewResult(r.Body); err != nil || !v.Counted {
		t.Fatalf("view report: %s %v", r.Body, err)
	}
	testenv.WaitFor(t, 30*time.Second, "the worker's flusher to move the view to PostgreSQL", func() bool {
		return e.count(t, `SELECT views FROM videos WHERE public_id = $1`, vid) == 1
	})
	t.Logf("web pid %d, worker pid %d: upload ready %v after the worker started; the counted view reached PostgreSQL",
		web.Pid(), worker.Pid(), took.Round(time.Millisecond))
	worker.Stop()
	web.Stop()
}
