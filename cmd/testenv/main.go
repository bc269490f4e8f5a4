//go:build unix

// Command testenv prepares the services the tests need and runs a command
// inside that environment:
//
//	go run ./cmd/testenv [-no-minio] -- go test -race -count=1 ./...
//
// It makes sure ffmpeg/ffprobe, the MinIO server binary and the browser
// tests' Chromium, node and npm are installed (installing them when it can), checks that PostgreSQL and Redis answer,
// starts a throw-away MinIO server on a free loopback port with a fresh data
// directory, runs the command with the UCC_TEST_* variables that
// internal/testenv reads, then stops MinIO, removes its data and exits with
// the command's exit code. It starts and waits for MinIO with
// internal/testenv's process harness.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
)

const (
	minioModule = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
	s3Region    = "us-east-1"

	startPostgres = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
	startRedis    = `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log`

	healthTimeout = 60 * time.Second
	stopTimeout   = 10 * time.Second
)

func main() {
	os.Exit(run())
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "testenv: "+format+"\n", args...)
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: go run ./cmd/testenv [-no-minio] -- command [args...]\n\n")
	flag.PrintDefaults()
}

// run does the work of main and returns the process exit code, so that
// deferred clean-up always runs before os.Exit.
func run() int {
	noMinIO := flag.Bool("no-minio", false, "do not install or start MinIO")
	flag.Usage = usage
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		usage()
		return 2
	}

	if err := ensureFFmpeg(); err != nil {
		logf("%v", err)
		return 1
	}
	ensureBrowser()

	minioBin := ""
	if !*noMinIO {
		var err error
		if minioBin, err = ensureMinIO(); err != nil {
			logf("%v", err)
			return 1
		}
	}

	dbURL := testenv.PostgresAdminURL()
	redisURL := testenv.RedisTestURL()
	if !checkServices(dbURL, redisURL) {
		return 1
	}

	env := append(os.Environ(),
		"UCC_TEST_DATABASE_URL="+dbURL,
		"UCC_TEST_REDIS_URL="+redisURL,
	)

	// From here on signals are caught, so that an interrupt while MinIO
	// starts or the command runs still stops MinIO and removes its data.
	// (Before this point nothing needs cleaning up and the default action,
	// exiting, is right.)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	tmp, err := os.MkdirTemp("", "ucc-testenv-")
	if err != nil {
		logf("create temporary directory: %v", err)
		return 1
	}
	defer func() {
		if err := os.RemoveAll(tmp); err != nil {
			logf("remove %s: %v", tmp, err)
		}
	}()
	// The test packages that run the ucc binary build it once, here, for
	// the whole run, instead of once each.
	shared := filepath.Join(tmp, "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		logf("%v", err)
		return 1
	}
	env = append(env, testenv.SharedDirEnv+"="+shared)

	if !*noMinIO {
		srv, err := startMinIO(minioBin, tmp, sigs)
		if err != nil {
			logf("%v", err)
			return 1
		}
		defer srv.stop()

		env = append(env,
			"UCC_TEST_S3_ENDPOINT="+srv.endpoint,
			"UCC_TEST_S3_ACCESS_KEY="+srv.accessKey,
			"UCC_TEST_S3_SECRET_KEY="+srv.secretKey,
			"UCC_TEST_S3_REGION="+s3Region,
			"UCC_TEST_MINIO_BIN="+minioBin,
		)
	}

	return runCommand(args, env, sigs)
}

// ensureFFmpeg makes sure ffmpeg and ffprobe are on PATH, installing them
// with apt-get when they are missing and we run as root.
func ensureFFmpeg() error {
	if haveFFmpeg() {
		return nil
	}
	_, aptErr := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || aptErr != nil {
		return errors.New("ffmpeg/ffprobe are not on PATH; install them with:\n" +
			"    sudo apt-get update && sudo apt-get install -y ffmpeg\n" +
			"  (or your system's package manager), then run this again")
	}
	logf("ffmpeg/ffprobe not found; installing: apt-get update && apt-get install -y ffmpeg")
	for _, argv := range [][]string{
		{"apt-get", "update"},
		{"apt-get", "install", "-y", "ffmpeg"},
	} {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %v", strings.Join(argv, " "), err)
		}
	}
	if !haveFFmpeg() {
		return errors.New("apt-get installed ffmpeg but ffmpeg/ffprobe are still not on PATH")
	}
	return nil
}

// browserPackages are the Debian packages the browser tests
// (internal/e2e) need: Debian's Chromium, node with npm to run the specs,
// and a Korean font, without which the Korean journey's screenshots show
// boxes instead of Hangul. A path is a file the package installs; a name, a
// command on PATH.
var browserPackages = []struct{ pkg, path string }{
	{"chromium", "/usr/bin/chromium"},
	{"nodejs", "node"},
	{"npm", "npm"},
	{"fonts-nanum", "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"},
}

// ensureBrowser installs Chromium, node, npm and the font with apt-get when any is
// missing and we run as root. It never stops the run: without them the
// browser tests skip (and fail under CI=true, naming what is missing).
func ensureBrowser() {
	var missing []string
	for _, p := range browserPackages {
		_, err := exec.LookPath(p.path)
		if strings.HasPrefix(p.path, "/") {
			_, err = os.Stat(p.path)
		}
		if err != nil {
			missing = append(missing, p.pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	_, aptErr := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || aptErr != nil {
		logf("%s not installed; the browser tests will skip. Install with:\n"+
			"    sudo apt-get update && sudo apt-get install -y %s", strings.Join(missing, ", "), strings.Join(missing, " "))
		return
	}
	logf("installing for the browser tests: apt-get update && apt-get install -y %s", strings.Join(missing, " "))
	for _, argv := range [][]string{
		{"apt-get", "update"},
		append([]string{"apt-get", "install", "-y"}, missing...),
	} {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if err := cmd.Run(); err != nil {
			logf("%s: %v; the browser tests will skip (or fail under CI=true)", strings.Join(argv, " "), err)
			return
		}
	}
}

func haveFFmpeg() bool {
	_, err1 := exec.LookPath("ffmpeg")
	_, err2 := exec.LookPath("ffprobe")
	return err1 == nil && err2 == nil
}

// ensureMinIO returns the path of the MinIO server binary ($UCC_MINIO_BIN,
// else $HOME/.cache/ucc/bin/minio), building it with `go install` into that
// directory when it is missing.
func ensureMinIO() (string, error) {
	bin := os.Getenv("UCC_MINIO_BIN")
	if bin == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find home directory for the MinIO cache (set UCC_MINIO_BIN instead): %v", err)
		}
		bin = filepath.Join(home, ".cache", "ucc", "bin", "minio")
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return "", err
	}
	if isExecutable(bin) {
		return bin, nil
	}

	dir := filepath.Dir(bin)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %v", dir, err)
	}
	goBin, err := findGo()
	if err != nil {
		return "", err
	}
	logf("MinIO server not found at %s; installing it (this takes a few minutes the first time):", bin)
	logf("    GOBIN=%s go install %s", dir, minioModule)
	cmd := exec.Command(goBin, "install", minioModule)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s: %v", minioModule, err)
	}
	// go install names the binary "minio"; honour a differently named
	// UCC_MINIO_BIN.
	if built := filepath.Join(dir, "minio"); built != bin {
		if err := os.Rename(built, bin); err != nil {
			return "", err
		}
	}
	if !isExecutable(bin) {
		return "", fmt.Errorf("go install finished but %s is not an executable file", bin)
	}
	logf("installed MinIO server at %s in %s", bin, time.Since(start).Round(time.Second))
	return bin, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// findGo locates the go command: on PATH, else in $GOROOT/bin.
func findGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); isExecutable(p) {
			return p, nil
		}
	}
	return "", errors.New("the go command is not on PATH; it is needed to install the MinIO server")
}

// checkServices reports whether PostgreSQL and Redis answer, printing how to
// start each one that does not.
func checkServices(dbURL, redisURL string) bool {
	ok := true
	if addr, err := hostPort(dbURL, "5432"); err != nil {
		logf("UCC_TEST_DATABASE_URL: %v", err)
		ok = false
	} else if err := pingPostgres(addr); err != nil {
		logf("PostgreSQL at %s does not answer (%v). Start it with:\n"+
			"    %s\n"+
			"  or, with Docker: docker compose up -d postgres", addr, err, startPostgres)
		ok = false
	}
	if addr, err := hostPort(redisURL, "6379"); err != nil {
		logf("UCC_TEST_REDIS_URL: %v", err)
		ok = false
	} else if err := pingRedis(addr); err != nil {
		logf("Redis at %s does not answer (%v). Start it with:\n"+
			"    %s\n"+
			"  or, with Docker: docker compose up -d redis", addr, err, startRedis)
		ok = false
	}
	return ok
}

// hostPort returns the host:port of a service URL, with defPort when the
// URL names no port.
func hostPort(raw, defPort string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	host := u.Hostname()
	if host == "" {
		return "", fmt.Errorf("no host in %q", raw)
	}
	port := u.Port()
	if port == "" {
		port = defPort
	}
	return net.JoinHostPort(host, port), nil
}

// pingPostgres sends a PostgreSQL SSLRequest and expects the one-byte answer
// ('S' or 'N') every server gives, so that any open port is not mistaken for
// PostgreSQL.
func pingPostgres(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	// Length 8, SSLRequest code 80877103.
	if _, err := c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); err != nil {
		return err
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		return fmt.Errorf("no PostgreSQL answer: %v", err)
	}
	if b[0] != 'S' && b[0] != 'N' {
		return fmt.Errorf("unexpected answer %q: not PostgreSQL", b[0])
	}
	return nil
}

// pingRedis sends PING and accepts any RESP status or error reply (a server
// that needs a password answers -NOAUTH, which still means it is up).
func pingRedis(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no Redis answer: %v", err)
	}
	if !strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "-") {
		return fmt.Errorf("unexpected answer %q: not Redis", strings.TrimSpace(line))
	}
	return nil
}

// minioServer is a running MinIO server process.
type minioServer struct {
	proc      *testenv.Process
	endpoint  string // 127.0.0.1:port
	accessKey string
	secretKey string
}

// startMinIO starts MinIO with a fresh data directory under tmp and waits
// until it serves requests. A port taken between choosing and binding it
// makes MinIO exit at once; that is retried with new ports.
func startMinIO(bin, tmp string, sigs <-chan os.Signal) (*minioServer, error) {
	const attempts = 3
	var lastErr error
	for i := 1; i <= attempts; i++ {
		srv, err := launchMinIO(bin, tmp, i)
		if err != nil {
			return nil, err
		}
		err = srv.waitHealthy(sigs)
		if err == nil {
			logf("MinIO is up at http://%s (data and log in %s)", srv.endpoint, tmp)
			return srv, nil
		}
		exited := srv.proc.Exited()
		srv.stop()
		lastErr = err
		if !exited {
			break
		}
	}
	return nil, lastErr
}

func launchMinIO(bin, tmp string, attempt int) (*minioServer, error) {
	addr, err := testenv.FreeAddr()
	if err != nil {
		return nil, err
	}
	consoleAddr, err := testenv.FreeAddr()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(tmp, fmt.Sprintf("data-%d", attempt))
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(tmp, "minio.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	srv := &minioServer{endpoint: addr, accessKey: "ucc" + testenv.RandomHex(8), secretKey: testenv.RandomHex(20)}
	// In its own process group (testenv.StartProcess): a terminal Ctrl-C
	// reaches the command under test, and MinIO is stopped by us only after
	// that command has ended.
	srv.proc, err = testenv.StartProcess(testenv.ProcessConfig{
		Name: "MinIO",
		Args: []string{bin, "server", dataDir, "--address", srv.endpoint, "--console-address", consoleAddr},
		Env: append(testenv.WithoutPrefix(os.Environ(), "MINIO_"),
			"MINIO_ROOT_USER="+srv.accessKey,
			"MINIO_ROOT_PASSWORD="+srv.secretKey,
			"MINIO_BROWSER=off",
			"MINIO_UPDATE=off",
		),
		Log: testenv.NewLog(logFile),
	})
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start MinIO (%s): %v", bin, err)
	}
	go func() { <-srv.proc.Done(); logFile.Close() }()
	return srv, nil
}

// waitHealthy polls /minio/health/live until it answers 200 with the object
// layer initialised (MinIO answers 200 with x-minio-server-status: offline
// while it is still starting). A signal on sigs gives up.
func (s *minioServer) waitHealthy(sigs <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case sig := <-sigs:
			logf("interrupted by %v while waiting for MinIO", sig)
			cancel()
		case <-ctx.Done():
		}
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	liveURL := "http://" + s.endpoint + "/minio/health/live"
	return testenv.AwaitProcess(ctx, s.proc, healthTimeout, "MinIO at "+liveURL+" to be healthy", func() (bool, string) {
		resp, err := client.Get(liveURL)
		if err != nil {
			return false, err.Error()
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status := resp.Header.Get("X-Minio-Server-Status")
		return resp.StatusCode == http.StatusOK && status != "offline", fmt.Sprintf("HTTP %d %s", resp.StatusCode, status)
	})
}

// stop ends MinIO: SIGTERM, then SIGKILL to its process group if it has
// not exited within stopTimeout.
func (s *minioServer) stop() {
	if s.proc.Exited() {
		return
	}
	if err := s.proc.Stop(stopTimeout); err != nil {
		logf("%v", err)
	}
}

// runCommand runs argv with env, streaming its output, and returns its exit
// code. SIGINT/SIGTERM received meanwhile are passed on to it; if it has not
// exited stopTimeout after the signal, it is killed.
func runCommand(argv, env []string, sigs <-chan os.Signal) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		logf("start %s: %v", argv[0], err)
		return 127
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()

	var killTimer <-chan time.Time
	for {
		select {
		case err := <-waitErr:
			return exitCode(err)
		case sig := <-sigs:
			logf("received %v; passing it on to %s", sig, argv[0])
			_ = cmd.Process.Signal(sig)
			if killTimer == nil {
				killTimer = time.After(stopTimeout)
			}
		case <-killTimer:
			logf("%s did not exit within %s of the signal; killing it", argv[0], stopTimeout)
			_ = cmd.Process.Kill()
			killTimer = nil
		}
	}
}

// exitCode converts the result of Wait into a shell-style exit code
// (128+signal for a process killed by a signal).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	logf("%v", err)
	return 1
}
