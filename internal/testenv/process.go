package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RandomHex returns n random bytes as 2n hex digits: names of databases,
// buckets, key prefixes and secrets that no other run uses.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// FreeAddr returns a loopback host:port that nothing listens on.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Log collects a child process's output; safe for the process's writer and
// the readers at once. A Log outlives restarts: every run appends to it.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
	tee io.Writer // also written here (a log file), when set
}

// Write appends p.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tee != nil {
		_, _ = l.tee.Write(p)
	}
	return l.buf.Write(p)
}

// NewLog returns a Log that also writes everything to tee (a log file).
func NewLog(tee io.Writer) *Log { return &Log{tee: tee} }

// String is everything written so far.
func (l *Log) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

// Tail is the last n lines written.
func (l *Log) Tail(n int) string {
	lines := strings.Split(strings.TrimRight(l.String(), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("(%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// ProcessConfig says how to start a child process.
type ProcessConfig struct {
	Name string   // for messages, e.g. "ucc serve"
	Args []string // the program and its arguments
	Env  []string // the whole environment (nil: none)
	Dir  string   // working directory ("" = the caller's)
	Log  *Log     // where its output goes (nil: a new Log)
}

// Process is a running (or ended) child process in a process group of its
// own, with its output captured.
type Process struct {
	name string
	cmd  *exec.Cmd
	log  *Log
	done chan struct{} // closed once it has exited
	err  error         // its exit, valid after done
}

// StartProcess starts cfg's program.
func StartProcess(cfg ProcessConfig) (*Process, error) {
	if cfg.Log == nil {
		cfg.Log = &Log{}
	}
	cmd := exec.Command(cfg.Args[0], cfg.Args[1:]...)
	cmd.Env, cmd.Dir = cfg.Env, cfg.Dir
	cmd.Stdout, cmd.Stderr = cfg.Log, cfg.Log
	// Its own process group: a terminal's Ctrl-C reaches the test, not the
	// child, and the clean-up can end the child's own children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A grandchild holding the output pipe must not hold up Wait.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
	}
	p := &Process{name: cfg.Name, cmd: cmd, log: cfg.Log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Name is the name the process was started with.
func (p *Process) Name() string { return p.name }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed once the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitErr is how the process ended (nil: exit status 0); only valid once
// it has exited.
func (p *Process) ExitErr() error { <-p.done; return p.err }

// Log is the process's output.
func (p *Process) Log() *Log { return p.log }

// Kill sends SIGKILL to the process alone (not its children, which must
// look after themselves, as after a real crash) and waits for it.
func (p *Process) Kill() error {
	if p.Exited() {
		return fmt.Errorf("%s had already exited (%v)", p.name, p.err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s: %w", p.name, err)
	}
	<-p.done
	return nil
}

// Stop sends SIGTERM to the process and waits up to timeout for it to
// exit; it returns an error unless the process exited by itself with
// status 0. After the timeout the whole process group gets SIGKILL.
func (p *Process) Stop(timeout time.Duration) error {
	if p.Exited() {
		return fmt.Errorf("%s had already exited (%v)", p.name, p.err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.KillGroup()
		return fmt.Errorf("%s did not stop within %v of SIGTERM", p.name, timeout)
	}
	if p.err != nil {
		return fmt.Errorf("%s did not stop cleanly: %w", p.name, p.err)
	}
	return nil
}

// KillGroup sends SIGKILL to the process's whole group (the process and any
// child it left) and waits for the process; for clean-up.
func (p *Process) KillGroup() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// Await polls cond every 20 ms until it holds, the context ends or timeout
// passes; what names the awaited state and cond may say what it saw last.
func Await(ctx context.Context, timeout time.Duration, what string, cond func() (ok bool, seen string)) error {
	return await(ctx, nil, timeout, what, cond)
}

// AwaitProcess is Await that gives up, with the process's last output, as
// soon as p exits.
func AwaitProcess(ctx context.Context, p *Process, timeout time.Duration, what string, cond func() (ok bool, seen string)) error {
	return await(ctx, p, timeout, what, cond)
}

func await(ctx context.Context, p *Process, timeout time.Duration, what string, cond func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, seen := cond()
		if ok {
			return nil
		}
		if seen != "" {
			seen = " (last: " + seen + ")"
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited (%v) while waiting for %s%s; its output:\n%s", p.name, p.err, what, seen, p.log.Tail(60))
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("timed out after %v waiting for %s%s", timeout, what, seen)
			if p != nil {
				msg += "; output of " + p.name + ":\n" + p.log.Tail(60)
			}
			return errors.New(msg)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// WaitHTTP waits until url answers 200 (p, if not nil, must keep running).
func WaitHTTP(ctx context.Context, p *Process, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return await(ctx, p, timeout, url+" to answer 200", func() (bool, string) {
		resp, err := client.Get(url)
		if err != nil {
			return false, err.Error()
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("HTTP %d %s", resp.StatusCode, bytes.TrimSpace(body))
	})
}

// RunResult is what a command that ran to its end did.
type RunResult struct {
	Stdout, Stderr string
	Code           int // exit status
}

// Run runs args to its end with env and stdin (nil: empty) and returns its
// output and exit status; the error is for a command that could not run.
func Run(ctx context.Context, env []string, stdin io.Reader, args ...string) (RunResult, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env, cmd.Stdin = env, stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := RunResult{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.Code = ee.ExitCode()
		err = nil
	}
	return res, err
}

// WithoutPrefix returns env without the variables whose names start with
// prefix (e.g. "UCC_"), so that the caller's own settings cannot leak into a
// child's configuration.
func WithoutPrefix(env []string, prefix string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, prefix) {
			out = append(out, kv)
		}
	}
	return out
}

// environ is the caller's environment without any UCC_* setting, plus vars.
func environ(vars map[string]string) []string {
	env := WithoutPrefix(os.Environ(), "UCC_")
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}
