package systemtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
)

// childProcess finds a child of parent whose command name is comm and whose
// command line contains arg; 0 when there is none.
func childProcess(parent int, comm, arg string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		open, closing := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || closing < open {
			continue
		}
		fields := strings.Fields(string(stat[closing+1:]))
		if string(stat[open+1:closing]) != comm || len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if bytes.Contains(cmdline, []byte(arg)) {
			return pid
		}
	}
	return 0
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || len(stat) < i+3 || stat[i+2] != 'Z'
}

// TestProcessingSurvivesSIGKILL kills `ucc serve` while ffmpeg encodes an
// uploaded video, restarts it, and expects the video to become ready by
// itself: River rescues the job of the dead worker after
// UCC_JOB_RESCUE_AFTER and the re-run starts from scratch. The killed
// process's ffmpeg dies with it, its working directory is removed, and the
// bucket holds nothing the database does not reference.
func TestProcessingSurvivesSIGKILL(t *testing.T) {
	systemTest(t)
	long := testenv.ClipFile(t, longClip)
	e := newSysEnv(t)
	ctx := context.Background()
	tmp := t.TempDir() // the child's TMPDIR: where transcoding jobs work
	p := newUCC(t, e.serveEnv(t, e.Bucket.S3.Endpoint, map[string]string{
		// A job past its timeout fails for good (no retry), so the re-run
		// must fit in it even on a loaded machine; the rescue waits just longer.
		"TMPDIR": tmp, "UCC_TRANSCODE_TIMEOUT": "40s", "UCC_JOB_RESCUE_AFTER": "41s",
	}))
	p.Start()
	creator := testenv.SignUp(t, p.Base, "proc@example.com", "processor")
	clip, err := os.ReadFile(long)
	if err != nil {
		t.Fatal(err)
	}
	vid := creator.MustUpload(t, "Killed while encoding", clip)

	var ffmpeg int
	testenv.WaitFor(t, 60*time.Second, "ffmpeg to encode the upload", func() bool {
		ffmpeg = childProcess(p.Pid(), "ffmpeg", "libx264")
		return ffmpeg != 0
	})
	var progress int
	testenv.WaitFor(t, 30*time.Second, "the encode to make progress", func() bool {
		err := e.DB.QueryRow(ctx, `SELECT progress FROM videos WHERE public_id = $1`, vid).Scan(&progress)
		return err == nil && progress > 0
	})
	p.Kill()
	killed := time.Now()
	testenv.WaitFor(t, 5*time.Second, "the killed process's ffmpeg to end", func() bool { return !alive(ffmpeg) })
	p.Start()

	waitStatus(t, ctx, e.DB, vid, "ready", 3*time.Minute)
	var attempts int
	var state string
	testenv.WaitFor(t, 10*time.Second, "River to record the job completed", func() bool {
		err := e.DB.QueryRow(ctx, `SELECT attempt, state FROM river_job WHERE kind = 'videos.transcode'`).Scan(&attempts, &state)
		return err == nil && state == "completed"
	})
	if attempts < 2 {
		t.Fatalf("transcode job: attempt %d, state %s; want a completed re-run", attempts, state)
	}
	if n := e.count(t, `SELECT count(*) FROM renditions r JOIN videos v ON v.id = r.video_id WHERE v.public_id = $1`, vid); n == 0 {
		t.Fatal("ready video without renditions")
	}
	rep := checkNoOrphans(t, ctx, e.Bucket, e.DB)
	left, _ := filepath.Glob(filepath.Join(tmp, "ucc-transcode-*"))
	t.Logf("faults injected: 1 SIGKILL at %d%% of the encode; ready %v after the kill (job attempt %d); bucket: %d objects, all referenced; working directories left: %d",
		progress, time.Since(killed).Round(time.Second), attempts, rep.Objects, len(left))
	if len(left) != 0 {
		t.Errorf("working directories of transcoding jobs left behind: %v", left)
	}
	p.Stop()
}
