package main

// Shared pieces of the fault tests (crashes, dependency faults, soak): the
// ucc binary built once per test run, a child `ucc serve` process that can be
// killed and restarted, a TCP proxy that cuts a dependency off, a throw-away
// MinIO bucket, media files made with ffmpeg, an API client, and the check
// that object storage holds nothing the database does not reference.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/s3"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error

	mediaOnce sync.Once
	mediaErr  error
	smallClip string // a 2 s 320x240 MP4 with sound (~60 KB)
	bigClip   string // a 12 MiB raw-video AVI (transcodes in well under a second)
	longClip  string // a 10 s 640x360 MP4 with sound (transcodes in a few seconds)
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// uccBinary builds ./cmd/ucc once per test binary and returns its path.
func uccBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "ucc-faults-"); buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "ucc")
		goBin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("go tool not found: %w", err)
			return
		}
		out, err := exec.Command(goBin, "build", "-o", buildBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// testMedia makes the clips the upload tests send, once per test binary.
func testMedia(t testing.TB) (small, big string) {
	t.Helper()
	small, big, _ = testClips(t)
	return small, big
}

// testClips makes every test clip, once per test binary.
func testClips(t testing.TB) (small, big, long string) {
	t.Helper()
	ffmpeg, _ := testenv.FFmpeg(t)
	uccBinary(t) // creates buildDir
	mediaOnce.Do(func() {
		smallClip = filepath.Join(buildDir, "small.mp4")
		bigClip = filepath.Join(buildDir, "big.avi")
		longClip = filepath.Join(buildDir, "long.mp4")
		for _, args := range [][]string{
			{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
				"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", smallClip},
			// 110 frames of 320x240 yuv420p = 12.1 MiB: more than one 8 MiB tus part.
			{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-frames:v", "110", "-c:v", "rawvideo", "-pix_fmt", "yuv420p", bigClip},
			{"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i", "sine=frequency=220",
				"-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", longClip},
		} {
			out, err := exec.Command(ffmpeg, append([]string{"-hide_banner", "-nostdin", "-y", "-v", "error"}, args...)...).CombinedOutput()
			if err != nil {
				mediaErr = fmt.Errorf("ffmpeg %v: %w\n%s", args, err, out)
				return
			}
		}
	})
	if mediaErr != nil {
		t.Fatal(mediaErr)
	}
	return smallClip, bigClip, longClip
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// uccProc is a `ucc serve` child process that a test starts, kills and restarts.
type uccProc struct {
	t    testing.TB
	bin  string
	env  []string
	Base string
	logs safeBuffer
	cmd  *exec.Cmd
	done chan error // the running process's exit
}

// newUCC prepares a serve process on a free loopback port; env adds to
// (and overrides) the defaults below.
func newUCC(t *testing.T, env map[string]string) *uccProc {
	t.Helper()
	addr := freeAddr(t)
	p := &uccProc{t: t, bin: uccBinary(t), Base: "http://" + addr}
	vars := map[string]string{
		"UCC_HTTP_ADDR": addr, "UCC_BASE_URL": p.Base, "UCC_MIGRATE_ON_START": "false",
		"UCC_SECRET_KEY": "fault-test-secret-0123456789abcdef", "UCC_LOG_FORMAT": "text", "UCC_LOG_LEVEL": "warn",
		"UCC_SHUTDOWN_TIMEOUT": "10s", "UCC_WORKERS": "1", "UCC_DATABASE_MAX_CONNS": "10",
		"UCC_VIEW_MIN_WATCH": "0s", "UCC_VIEW_IP_HOURLY_CAP": "0", "UCC_VIEW_FLUSH_INTERVAL": "300ms",
		// Every simulated user signs up from 127.0.0.1.
		"UCC_SIGNUP_RATE_LIMIT": "0",
	}
	for k, v := range env {
		vars[k] = v
	}
	for _, kv := range os.Environ() { // the test's own UCC_* settings must not leak in
		if !strings.HasPrefix(kv, "UCC_") {
			p.env = append(p.env, kv)
		}
	}
	for k, v := range vars {
		p.env = append(p.env, k+"="+v)
	}
	t.Cleanup(func() {
		if p.cmd != nil {
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("ucc log:\n%s", p.logs.String())
		}
	})
	return p
}

// start runs the process and waits until /healthz answers.
func (p *uccProc) start() {
	p.t.Helper()
	cmd := exec.Command(p.bin, "serve")
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = &p.logs, &p.logs
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
	p.done = make(chan error, 1)
	go func(done chan<- error) { done <- cmd.Wait() }(p.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(p.Base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-p.done:
			p.cmd = nil
			p.t.Fatalf("ucc serve exited during start-up (%v); log:\n%s", err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("ucc serve did not answer /healthz within 30 s; log:\n%s", p.logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL: no shutdown code runs.
func (p *uccProc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatal(err)
	}
	<-p.done
	p.cmd = nil
}

// stop ends the process with SIGTERM and expects a clean exit.
func (p *uccProc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	var err error
	select {
	case err = <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("ucc serve did not stop within 60 s of SIGTERM; log:\n%s", p.logs.String())
	}
	p.cmd = nil
	if err != nil {
		p.t.Fatalf("ucc serve did not stop cleanly: %v; log:\n%s", err, p.logs.String())
	}
}

// pid is the running process's id.
func (p *uccProc) pid() int { return p.cmd.Process.Pid }

// proxy is a TCP proxy in front of a dependency. cut closes every open
// connection and refuses new ones (the port is closed, as when the service
// is stopped); restore opens the port again.
type proxy struct {
	target string
	Addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	cuts  int
	hole  bool // stalled: connections are accepted and never answered
}

// newProxy listens on a free loopback port and forwards to target.
func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: target, Addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() { p.cut() })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil { // cut meanwhile
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) pipe(c net.Conn) {
	p.mu.Lock()
	hole := p.hole
	p.mu.Unlock()
	if hole { // hold the connection open, read nothing, answer nothing
		p.track(c)
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c) || !p.track(up) {
		c.Close()
		up.Close()
		return
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// cut drops every connection (with a TCP reset) and closes the port.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return
	}
	p.ln.Close()
	p.ln = nil
	p.cuts++
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, like a crashed server
		}
		c.Close()
		delete(p.conns, c)
	}
}

// stall drops every connection and then accepts new ones but never answers
// them: a server that hangs, or a network that silently drops packets.
func (p *proxy) stall(t testing.TB) {
	t.Helper()
	p.cut()
	p.mu.Lock()
	p.hole = true
	p.mu.Unlock()
	p.restore(t)
}

// restore opens the port again (after cut) or ends a stall, dropping the
// connections it held.
func (p *proxy) restore(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	up, hole := p.ln != nil, p.hole
	p.mu.Unlock()
	if up && hole {
		p.cut()
		p.mu.Lock()
		p.hole = false
		p.cuts-- // one fault: the stall
		p.mu.Unlock()
	} else if up {
		return
	}
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", p.Addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("proxy: cannot listen on %s again: %v", p.Addr, err)
}

// bucket is a fresh MinIO bucket for one test, emptied and removed at the end.
type bucket struct {
	Name  string
	S3    testenv.S3
	Store *s3.Store
}

func newBucket(t testing.TB) *bucket {
	t.Helper()
	srv := testenv.S3Server(t)
	b := &bucket{Name: "ucc-fault-" + randHex(6), S3: srv}
	st, err := s3.New(context.Background(), s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: b.Name,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	b.Store = st
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		mp := st.Multipart()
		if keys, err := mp.OpenUploads(ctx, ""); err == nil {
			for _, k := range keys {
				st.Core().AbortMultipartUpload(ctx, b.Name, k, "") //nolint:errcheck
			}
		}
		if list, err := st.List(ctx, ""); err == nil {
			for _, o := range list {
				st.Delete(ctx, o.Key) //nolint:errcheck
			}
		}
		st.Core().RemoveBucket(ctx, b.Name) //nolint:errcheck
	})
	return b
}

// env is the serve configuration for this bucket, reached at endpoint
// (the MinIO address, or a proxy in front of it).
func (b *bucket) env(endpoint string) map[string]string {
	return map[string]string{"UCC_STORAGE": "s3", "UCC_S3_ENDPOINT": endpoint, "UCC_S3_BUCKET": b.Name,
		"UCC_S3_ACCESS_KEY": b.S3.AccessKey, "UCC_S3_SECRET_KEY": b.S3.SecretKey, "UCC_S3_REGION": b.S3.Region}
}

// orphanReport is what checkNoOrphans found.
type orphanReport struct {
	Objects    int // objects in the bucket, all referenced
	Multiparts int // incomplete multipart uploads, all of open upload sessions
}

// checkNoOrphans lists the bucket and its incomplete multipart uploads and
// fails the test for any that no database row references: video originals,
// renditions and thumbnails, channel images, tus tails and open tus uploads.
func checkNoOrphans(t testing.TB, ctx context.Context, b *bucket, db *pgxpool.Pool) orphanReport {
	t.Helper()
	refs := map[string]bool{}
	rows, err := db.Query(ctx, `
		SELECT original_key FROM videos WHERE original_key IS NOT NULL
		UNION ALL SELECT thumbnail_key FROM videos WHERE thumbnail_key IS NOT NULL
		UNION ALL SELECT object_key FROM renditions
		UNION ALL SELECT avatar_key FROM channels WHERE avatar_key IS NOT NULL
		UNION ALL SELECT banner_key FROM channels WHERE banner_key IS NOT NULL
		UNION ALL SELECT tail_key FROM upload_sessions WHERE tail_key <> ''`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		refs[k] = true
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	open := map[string]bool{}
	rows, err = db.Query(ctx, `SELECT object_key FROM upload_sessions WHERE upload_offset < upload_length`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		open[k] = true
	}
	list, err := b.Store.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, o := range list {
		if !refs[o.Key] {
			orphans = append(orphans, o.Key)
		}
	}
	mps, err := b.Store.Multipart().OpenUploads(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range mps {
		if !open[k] {
			orphans = append(orphans, "incomplete multipart upload of "+k)
		}
	}
	if len(orphans) > 0 {
		slices.Sort(orphans)
		t.Errorf("object storage holds %d things no row references: %v", len(orphans), orphans)
	}
	return orphanReport{Objects: len(list), Multiparts: len(mps)}
}

// apiClient talks to a ucc process as one user (or anonymously).
type apiClient struct {
	base  string
	token string
	hc    *http.Client
}

func newClient(base string) *apiClient {
	return &apiClient{base: base, hc: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// reply is one HTTP answer.
type reply struct {
	Status int
	Body   []byte
	Header http.Header
	Took   time.Duration // from sending to the end of the answer (or the error)
}

// do sends a request; body may be nil, a []byte/string, an io.Reader or a
// value sent as JSON.
func (c *apiClient) do(method, path string, body any, hdr ...string) (reply, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	case io.Reader:
		rd = b
	default:
		j, _ := json.Marshal(b)
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		return reply{Took: time.Since(start)}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{Status: res.StatusCode, Body: b, Header: res.Header, Took: time.Since(start)}, err
}

// must sends a request and fails the test unless the answer has status want.
func (c *apiClient) must(t testing.TB, want int, method, path string, body any, hdr ...string) reply {
	t.Helper()
	r, err := c.do(method, path, body, hdr...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if r.Status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r
}

// signUp creates a user through the API and returns a client holding an
// API token; with handle != "" the user also opens a channel (a creator).
func signUp(t testing.TB, base, email, handle string) *apiClient {
	t.Helper()
	c := newClient(base)
	cred := map[string]string{"email": email, "password": "correct horse battery", "display_name": strings.Split(email, "@")[0]}
	c.must(t, http.StatusCreated, "POST", "/api/v1/auth/signup", cred)
	r := c.must(t, http.StatusCreated, "POST", "/api/v1/auth/tokens", cred)
	var tok struct{ Token string }
	if err := json.Unmarshal(r.Body, &tok); err != nil || tok.Token == "" {
		t.Fatalf("token answer %s", r.Body)
	}
	c.token = tok.Token
	if handle != "" {
		c.must(t, http.StatusCreated, "POST", "/api/v1/channels", map[string]string{"name": handle, "handle": handle})
	}
	return c
}

// multipartUpload is a simple-upload body: the fields, then the file.
func multipartUpload(title string, file []byte) (body []byte, ctype string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("title", title)
	_ = mw.WriteField("visibility", "public")
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	_, _ = fw.Write(file)
	_ = mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// upload sends file through the simple upload and returns the video's public id.
func (c *apiClient) upload(t testing.TB, title string, file []byte) string {
	t.Helper()
	body, ctype := multipartUpload(title, file)
	r := c.must(t, http.StatusCreated, "POST", "/api/v1/videos", body, "Content-Type", ctype)
	var v struct{ Video struct{ ID string } }
	if err := json.Unmarshal(r.Body, &v); err != nil || v.Video.ID == "" {
		t.Fatalf("upload answer %s", r.Body)
	}
	return v.Video.ID
}

// waitStatus polls the video until its status is want (failing on "failed")
// and returns how long it took.
func waitStatus(t testing.TB, ctx context.Context, db *pgxpool.Pool, publicID, want string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		var status, reason string
		if err := db.QueryRow(ctx, `SELECT status, failure_reason FROM videos WHERE public_id = $1`, publicID).Scan(&status, &reason); err != nil {
			t.Fatalf("video %s: %v", publicID, err)
		}
		if status == want {
			return time.Since(start)
		}
		if status == "failed" {
			t.Fatalf("video %s failed: %s", publicID, reason)
		}
		if time.Since(start) > timeout {
			t.Fatalf("video %s still %s after %v, want %s", publicID, status, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// errBodyLeak reports an answer body that shows internals a person should
// never see (a stack trace, a Go panic, a raw driver error).
func errBodyLeak(body []byte) error {
	for _, s := range []string{"goroutine ", "panic:", ".go:", "runtime error", "pgconn", "SQLSTATE", "dial tcp", "redis:", "connection refused"} {
		if bytes.Contains(body, []byte(s)) {
			return errors.New("the answer shows internals (" + s + ")")
		}
	}
	return nil
}
