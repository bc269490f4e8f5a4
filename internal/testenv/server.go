package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// workerStarted is what `ucc serve --role worker` logs (at level info)
// once it runs.
const workerStarted = "UCC worker started"

// ServeConfig says how to run `ucc serve`.
type ServeConfig struct {
	Bin  string // the ucc binary (UCC: UCCBinary when empty)
	Role string // web, worker or all ("" = all)
	// Env is the ucc configuration (UCC_* variables). The caller's own UCC_*
	// variables never reach the process. UCC_HTTP_ADDR defaults to a free
	// loopback port, UCC_BASE_URL to its URL, UCC_SECRET_KEY to a random
	// key kept across restarts and UCC_DEFAULT_LANGUAGE to en.
	Env map[string]string
	// LogPath, when set, also receives the output (appended across restarts).
	LogPath string
	// ReadyTimeout bounds each start (default 60 s).
	ReadyTimeout time.Duration
	// StopTimeout is how long a graceful stop may take before the process
	// group is killed (default 60 s).
	StopTimeout time.Duration
}

// Server is a `ucc serve` child process that can be started, stopped,
// killed and restarted on the same address and configuration.
type Server struct {
	cfg  ServeConfig
	Addr string // host:port it listens on (role web or all)
	Base string // http:// URL of Addr
	env  []string
	log  *Log
	file *os.File // LogPath, open while the Server is
	proc *Process // the current run; nil before the first start
}

// NewServer prepares a serve process; nothing runs until Start.
func NewServer(cfg ServeConfig) (*Server, error) {
	if cfg.Bin == "" {
		return nil, errors.New("testenv: ServeConfig.Bin is empty")
	}
	if cfg.Role == "" {
		cfg.Role = "all"
	}
	if lvl := cfg.Env["UCC_LOG_LEVEL"]; cfg.Role == "worker" && (lvl == "warn" || lvl == "error") {
		// A worker serves no HTTP: it is ready when it logs so, at level info.
		return nil, fmt.Errorf("testenv: a worker's readiness is its %q log line, which UCC_LOG_LEVEL=%s hides; use info or debug", workerStarted, lvl)
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 60 * time.Second
	}
	// English unless the test asks for another language (the browser
	// journey's Korean run does): tests read the messages as the Go source
	// writes them.
	vars := map[string]string{"UCC_SECRET_KEY": "test-" + RandomHex(24), "UCC_DEFAULT_LANGUAGE": "en"}
	for k, v := range cfg.Env {
		vars[k] = v
	}
	if vars["UCC_HTTP_ADDR"] == "" {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		vars["UCC_HTTP_ADDR"] = addr
	}
	s := &Server{cfg: cfg, Addr: vars["UCC_HTTP_ADDR"]}
	s.Base = "http://" + s.Addr
	if vars["UCC_BASE_URL"] == "" {
		vars["UCC_BASE_URL"] = s.Base
	}
	s.env = environ(vars)
	s.log = &Log{}
	if cfg.LogPath != "" {
		f, err := os.OpenFile(cfg.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		s.file, s.log = f, NewLog(f)
	}
	return s, nil
}

// Env is the process's whole environment, for running other ucc commands
// (`ucc users create`, `ucc revenue ...`) with the same configuration.
func (s *Server) Env() []string { return append([]string(nil), s.env...) }

// Bin is the ucc binary the server runs.
func (s *Server) Bin() string { return s.cfg.Bin }

// Log is the output of every run so far.
func (s *Server) Log() *Log { return s.log }

// Running reports whether a run has started and not ended.
func (s *Server) Running() bool { return s.proc != nil && !s.proc.Exited() }

// Process is the current (or last) run; nil before the first start.
func (s *Server) Process() *Process { return s.proc }

// Start runs `ucc serve --role ROLE` and waits until it is ready: /readyz
// answers 200 (roles web and all) or the worker logs that it started.
func (s *Server) Start(ctx context.Context) error {
	if s.Running() {
		return errors.New("ucc serve is already running")
	}
	p, err := StartProcess(ProcessConfig{Name: "ucc serve --role " + s.cfg.Role,
		Args: []string{s.cfg.Bin, "serve", "--role", s.cfg.Role}, Env: s.env, Log: s.log})
	if err != nil {
		return err
	}
	s.proc = p
	mark := len(s.log.String()) // this run's output starts here
	if s.cfg.Role == "worker" {
		err = AwaitProcess(ctx, p, s.cfg.ReadyTimeout, "the worker to start", func() (bool, string) {
			return strings.Contains(s.log.String()[mark:], workerStarted), ""
		})
	} else {
		err = WaitHTTP(ctx, p, s.Base+"/readyz", s.cfg.ReadyTimeout)
	}
	if err != nil {
		p.KillGroup()
		return err
	}
	return nil
}

// Stop ends the run with SIGTERM and returns an error unless it exits
// cleanly within the stop timeout.
func (s *Server) Stop() error {
	if !s.Running() {
		return errors.New("ucc serve is not running")
	}
	if err := s.proc.Stop(s.cfg.StopTimeout); err != nil {
		return fmt.Errorf("%w; log:\n%s", err, s.log.Tail(60))
	}
	return nil
}

// Kill ends the run with SIGKILL: no shutdown code runs.
func (s *Server) Kill() error {
	if !s.Running() {
		return errors.New("ucc serve is not running")
	}
	return s.proc.Kill()
}

// Restart stops the run gracefully and starts it again.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.Start(ctx)
}

// Close kills whatever still runs (with its process group) and closes the
// log file; for clean-up, after which the Server is not used again.
func (s *Server) Close() {
	if s.Running() {
		s.proc.KillGroup()
	}
	if s.file != nil {
		s.file.Close()
	}
}

// UCC is a Server that belongs to a test: its methods fail the test rather
// than return errors, and it is killed when the test ends (its log shown
// if the test failed: all of it, or the end and the LogPath).
type UCC struct {
	t testing.TB
	*Server
}

// NewUCC prepares a serve process for t (building ucc when cfg.Bin is
// empty); nothing runs until Start.
func NewUCC(t testing.TB, cfg ServeConfig) *UCC {
	t.Helper()
	if cfg.Bin == "" {
		cfg.Bin = UCCBinary(t)
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		if t.Failed() && s.cfg.LogPath != "" {
			t.Logf("ucc serve log (last lines; all of it in %s):\n%s", s.cfg.LogPath, s.log.Tail(200))
		} else if t.Failed() {
			t.Logf("ucc serve log:\n%s", s.log.String())
		}
	})
	return &UCC{t: t, Server: s}
}

// StartUCC prepares and starts a serve process for t.
func StartUCC(t testing.TB, cfg ServeConfig) *UCC {
	t.Helper()
	u := NewUCC(t, cfg)
	u.Start()
	return u
}

// Start runs the process and waits until it is ready.
func (u *UCC) Start() {
	u.t.Helper()
	if err := u.Server.Start(context.Background()); err != nil {
		u.t.Fatal(err)
	}
}

// Stop ends the process with SIGTERM and expects a clean exit.
func (u *UCC) Stop() {
	u.t.Helper()
	if err := u.Server.Stop(); err != nil {
		u.t.Fatal(err)
	}
}

// Kill ends the process with SIGKILL: no shutdown code runs.
func (u *UCC) Kill() {
	u.t.Helper()
	if err := u.Server.Kill(); err != nil {
		u.t.Fatal(err)
	}
}

// Restart stops the process gracefully and starts it again.
func (u *UCC) Restart() {
	u.t.Helper()
	if err := u.Server.Restart(context.Background()); err != nil {
		u.t.Fatal(err)
	}
}

// Pid is the running process's id.
func (u *UCC) Pid() int { return u.proc.Pid() }

// Command runs another ucc command (`users create`, `revenue report`, ...)
// to its end with the server's configuration plus env (KEY=VALUE) and stdin
// (nil: empty).
func (u *UCC) Command(env []string, stdin io.Reader, args ...string) RunResult {
	u.t.Helper()
	return RunUCC(u.t, u.Bin(), append(u.Env(), env...), stdin, args...)
}

// RunUCC runs `bin args...` to its end with env and stdin (nil: empty) and
// fails t if it could not run; its exit status is in the result.
func RunUCC(t testing.TB, bin string, env []string, stdin io.Reader, args ...string) RunResult {
	t.Helper()
	res, err := Run(context.Background(), env, stdin, append([]string{bin}, args...)...)
	if err != nil {
		t.Fatalf("ucc %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// WaitFor polls cond every 20 ms until it holds, failing t after timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := Await(context.Background(), timeout, what, func() (bool, string) { return cond(), "" }); err != nil {
		t.Fatal(err)
	}
}
