package main

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
)

// redisServer is a private redis-server with an append-only file fsynced
// on every write, that a test can kill and start again on the same data.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan error
}

func newRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, "redis-server not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &redisServer{t: t, bin: bin, dir: t.TempDir(), port: port}
	t.Cleanup(func() {
		if r.cmd != nil {
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan<- error) { done <- c.Wait() }(r.cmd, r.done)
	waitFor(r.t, 10*time.Second, "redis-server to answer", func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(r.port), time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return false
		}
		b := make([]byte, 7)
		n, _ := c.Read(b)
		return string(b[:n]) == "+PONG\r\n"
	})
}

func (r *redisServer) kill() {
	r.t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
	r.cmd = nil
}

// TestRedisCrashKeepsCountedViews SIGKILLs a real Redis (append-only file,
// fsync on every write) while view reports flow, starts it again on the same
// data, and expects PostgreSQL to end with exactly the views answered
// counted: pending counts and swapped-aside sets survive the crash, the
// counting scripts are loaded again by themselves, and no view counts twice.
// (With Redis's common "appendfsync everysec", a Redis crash may lose up to
// a second of counted views; without persistence, everything pending.)
func TestRedisCrashKeepsCountedViews(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test builds and runs the ucc binary; skipped with -short")
	}
	t.Parallel()
	rs := newRedisServer(t)
	rs.start()
	e := newCrashEnv(t)
	p := newUCC(t, e.serveEnv(t, e.Bucket.S3.Endpoint, map[string]string{"UCC_REDIS_URL": rs.url()}))
	p.start()
	w := newWorld(t, p.Base, 0)
	waitStatus(t, context.Background(), e.DB, w.video, "ready", 2*time.Minute)

	tl := newTally()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			anon := newClient(p.Base)
			for {
				select {
				case <-stop:
					return
				default:
				}
				w.view(tl, anon)
			}
		}()
	}
	time.Sleep(2 * time.Second)
	tl.setPhase("redis killed")
	rs.kill()
	time.Sleep(time.Second)
	rs.start()
	tl.setPhase("redis back")
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	w.settle(t, tl)
	views := w.checkAcknowledged(t, e)
	t.Logf("faults injected: 1 Redis SIGKILL + restart; requests sent: %d; views reconciled: PostgreSQL %d == %d answered counted (%d reports)\n%s",
		tl.sent.Load(), views, w.counted, w.reports, tl.table())
	for _, b := range tl.bad {
		t.Errorf("bad answer: %s", b)
	}
	if tl.get("redis killed", "report")[verdictDegraded] == 0 {
		t.Error("no report failed while Redis was down: the kill did not land")
	}
	p.stop()
}
