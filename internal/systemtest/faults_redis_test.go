package systemtest

import (
	"context"
	"net"
	"os/exec"
	"sync"
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
	addr string
	log  *testenv.Log
	proc *testenv.Process
}

func newRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Missing(t, "redis-server not on PATH")
	}
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	r := &redisServer{t: t, bin: bin, dir: t.TempDir(), addr: addr, log: &testenv.Log{}}
	t.Cleanup(func() {
		if r.proc != nil {
			r.proc.KillGroup()
		}
		if t.Failed() {
			t.Logf("redis-server log:\n%s", r.log.Tail(50))
		}
	})
	return r
}

func (r *redisServer) url() string { return "redis://" + r.addr + "/0" }

// start runs redis-server on the data directory and waits until it
// answers PING.
func (r *redisServer) start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	p, err := testenv.StartProcess(testenv.ProcessConfig{Name: "redis-server", Log: r.log, Args: []string{r.bin,
		"--port", port, "--bind", "127.0.0.1", "--dir", r.dir, "--save", "", "--appendonly", "yes",
		"--appendfsync", "always", "--daemonize", "no", "--loglevel", "warning"}})
	if err != nil {
		r.t.Fatal(err)
	}
	r.proc = p
	err = testenv.AwaitProcess(context.Background(), p, 10*time.Second, "redis-server to answer", func() (bool, string) {
		c, err := net.DialTimeout("tcp", r.addr, time.Second)
		if err != nil {
			return false, err.Error()
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return false, err.Error()
		}
		b := make([]byte, 7)
		n, _ := c.Read(b)
		return string(b[:n]) == "+PONG\r\n", string(b[:n])
	})
	if err != nil {
		r.t.Fatal(err)
	}
}

// kill ends redis-server with SIGKILL.
func (r *redisServer) kill() {
	r.t.Helper()
	if err := r.proc.Kill(); err != nil {
		r.t.Fatal(err)
	}
}

// TestRedisCrashKeepsCountedViews SIGKILLs a real Redis (append-only file,
// fsync on every write) while view reports flow, starts it again on the same
// data, and expects PostgreSQL to end with exactly the views answered
// counted: pending counts and swapped-aside sets survive the crash, the
// counting scripts are loaded again by themselves, and no view counts twice.
// (With Redis's common "appendfsync everysec", a Redis crash may lose up to
// a second of counted views; without persistence, everything pending.)
func TestRedisCrashKeepsCountedViews(t *testing.T) {
	systemTest(t)
	rs := newRedisServer(t)
	rs.start()
	e := newSysEnv(t)
	p := newUCC(t, e.serveEnv(t, e.Bucket.S3.Endpoint, map[string]string{"UCC_REDIS_URL": rs.url()}))
	p.Start()
	w := newWorld(t, p.Base, 0)
	waitStatus(t, context.Background(), e.DB, w.video, "ready", 2*time.Minute)

	tl := newTally()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			anon := testenv.NewClient(p.Base)
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
	p.Stop()
}
