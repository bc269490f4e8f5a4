package testenv

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func startShell(t *testing.T, script string) *Process {
	t.Helper()
	p, err := StartProcess(ProcessConfig{Name: "sh", Args: []string{"/bin/sh", "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.KillGroup)
	return p
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// Kill ends the process alone, as a crash does: a child it started keeps
// running until KillGroup.
func TestKillLeavesChildrenToKillGroup(t *testing.T) {
	p := startShell(t, "sleep 30 >/dev/null 2>&1 & echo $!; wait")
	var child int
	if err := AwaitProcess(context.Background(), p, 5*time.Second, "the child's pid", func() (bool, string) {
		child, _ = strconv.Atoi(strings.TrimSpace(p.Log().String()))
		return child > 0, p.Log().String()
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() || p.ExitErr() == nil {
		t.Fatalf("after Kill: exited %v, %v", p.Exited(), p.ExitErr())
	}
	if !alive(child) {
		t.Fatal("Kill ended the child too")
	}
	p.KillGroup()
	WaitFor(t, 5*time.Second, "the child to end", func() bool {
		// The child is re-parented and reaped by init; a zombie may linger briefly.
		st, err := os.ReadFile("/proc/" + strconv.Itoa(child) + "/stat")
		return err != nil || strings.Contains(string(st), ") Z ")
	})
	if err := p.Kill(); err == nil {
		t.Error("Kill of an ended process is no error")
	}
}

// Stop is graceful: a clean exit is no error, a process that ignores
// SIGTERM is killed after the timeout and reported.
func TestStop(t *testing.T) {
	clean := startShell(t, "trap 'exit 0' TERM; while :; do sleep 0.05; done")
	time.Sleep(100 * time.Millisecond) // let the shell install its trap
	if err := clean.Stop(5 * time.Second); err != nil {
		t.Errorf("clean stop: %v", err)
	}
	stubborn := startShell(t, "trap '' TERM; echo ready; while :; do sleep 0.05; done")
	WaitFor(t, 5*time.Second, "the trap", func() bool { return strings.Contains(stubborn.Log().String(), "ready") })
	start := time.Now()
	err := stubborn.Stop(300 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not stop within") {
		t.Errorf("stop of a process ignoring SIGTERM: %v", err)
	}
	if !stubborn.Exited() || time.Since(start) > 5*time.Second {
		t.Errorf("not killed after the timeout: exited %v after %v", stubborn.Exited(), time.Since(start))
	}
	failing := startShell(t, "trap 'exit 3' TERM; while :; do sleep 0.05; done")
	time.Sleep(100 * time.Millisecond)
	if err := failing.Stop(5 * time.Second); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("stop of a process exiting 3: %v", err)
	}
}

// Await gives up as soon as the process exits, and shows its output.
func TestAwaitProcessEndsWithTheProcess(t *testing.T) {
	p := startShell(t, "echo boom; exit 3")
	start := time.Now()
	err := AwaitProcess(context.Background(), p, 30*time.Second, "never", func() (bool, string) { return false, "nothing" })
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "boom") || !strings.Contains(err.Error(), "last: nothing") {
		t.Fatalf("error %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	err = Await(context.Background(), 50*time.Millisecond, "never", func() (bool, string) { return false, "" })
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms waiting for never") {
		t.Fatalf("timeout error %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Await(ctx, time.Minute, "never", func() (bool, string) { return false, "" }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestLogTail(t *testing.T) {
	l := &Log{}
	for i := 1; i <= 5; i++ {
		l.Write([]byte("line " + strconv.Itoa(i) + "\n"))
	}
	if got := l.Tail(2); got != "(3 lines before)\nline 4\nline 5" {
		t.Errorf("Tail(2) = %q", got)
	}
	if got := l.Tail(10); got != "line 1\nline 2\nline 3\nline 4\nline 5" {
		t.Errorf("Tail(10) = %q", got)
	}
}

func TestWithoutPrefix(t *testing.T) {
	got := WithoutPrefix([]string{"UCC_A=1", "PATH=/bin", "UCC_TEST_B=2", "XUCC_C=3"}, "UCC_")
	if strings.Join(got, " ") != "PATH=/bin XUCC_C=3" {
		t.Errorf("got %v", got)
	}
}

// The decoders read the API's shapes, and nothing else.
func TestDecoders(t *testing.T) {
	if id, err := DecodeVideoID([]byte(`{"video":{"id":"abc","title":"x"}}`)); err != nil || id != "abc" {
		t.Errorf("DecodeVideoID = %q, %v", id, err)
	}
	for _, body := range []string{`{"id":"abc"}`, `{"error":{"code":"x"}}`} {
		if _, err := DecodeVideoID([]byte(body)); err == nil {
			t.Errorf("%s has a video id", body)
		}
	}
	if p, err := DecodePlay([]byte(`{"play_token":"t","min_watch_seconds":30}`)); err != nil || p.Token != "t" || p.MinWatchSeconds != 30 {
		t.Errorf("DecodePlay: %+v %v", p, err)
	}
	if _, err := DecodePlay([]byte(`{}`)); err == nil {
		t.Error("a play answer without a token decoded")
	}
	if id, err := DecodeCommentID([]byte(`{"comment":{"id":7}}`)); err != nil || id != 7 {
		t.Errorf("DecodeCommentID: %d %v", id, err)
	}
	if v, err := DecodeViewResult([]byte(`{"counted":false,"reason":"duplicate"}`)); err != nil || v.Counted || v.Reason != "duplicate" {
		t.Errorf("DecodeViewResult: %+v %v", v, err)
	}
	if code, msg, err := DecodeErrorCode([]byte(`{"error":{"code":"unavailable","message":"try again"}}`)); err != nil || code != "unavailable" || msg != "try again" {
		t.Errorf("DecodeErrorCode: %q %q %v", code, msg, err)
	}
}

// The client sends JSON with the token and a browser's User-Agent, does not
// follow redirects, and Expect names an unexpected status.
func TestClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/redirect":
			http.Redirect(w, r, "/elsewhere", http.StatusSeeOther)
		case r.Header.Get("Authorization") != "Bearer tok" || r.Header.Get("User-Agent") != BrowserUserAgent:
			http.Error(w, "who are you", http.StatusUnauthorized)
		case r.Header.Get("Content-Type") != "application/json":
			http.Error(w, "json please", http.StatusUnsupportedMediaType)
		default:
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	c := NewClient(srv.URL)
	c.Token = "tok"
	if r := c.Must(t, http.StatusCreated, "POST", "/x", map[string]int{"a": 1}); string(r.Body) != `{"ok":true}` {
		t.Errorf("body %s", r.Body)
	}
	if r := c.Must(t, http.StatusSeeOther, "GET", "/redirect", nil); r.Header.Get("Location") != "/elsewhere" {
		t.Errorf("redirect %v", r.Header)
	}
	_, err := c.Expect(http.StatusCreated, "POST", "/x", "not json")
	if err == nil || !strings.Contains(err.Error(), "415 json please") {
		t.Errorf("Expect: %v", err)
	}
}

// A binary another process of the run built is used as it is.
func TestBuildUCCOnceReusesTheBuild(t *testing.T) {
	dir := t.TempDir()
	want := dir + "/ucc"
	if err := os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := BuildUCCOnce(context.Background(), dir)
	if err != nil || got != want {
		t.Fatalf("BuildUCCOnce = %q, %v; want %q", got, err, want)
	}
}
