// Package config reads UCC's configuration from UCC_* environment variables.
//
// Every variable is declared once in specs; Load parses them into a Config
// that main passes on to constructors. A wrong value stops start-up with one
// line naming the variable.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ucc-video/ucc/internal/i18n"
)

// Spec declares one environment variable: its name, default and meaning.
type Spec struct {
	Name    string
	Default string
	Help    string
	// Secret variables may also be read from a file named by NAME_FILE.
	Secret bool
}

var specs = []Spec{
	{Name: "UCC_HTTP_ADDR", Default: "127.0.0.1:8080", Help: "address the web server listens on"},
	{Name: "UCC_BASE_URL", Default: "", Help: "public URL of the site, used in links and Open Graph tags (default http://UCC_HTTP_ADDR)"},
	{Name: "UCC_DATABASE_URL", Default: "postgres://ucc_app@127.0.0.1:5432/ucc?sslmode=disable", Help: "PostgreSQL connection URL of `ucc serve` and the operator commands: the runtime role ucc_app (created by the migrations), which reads and writes rows but owns no table", Secret: true},
	{Name: "UCC_MIGRATE_DATABASE_URL", Default: "", Help: "PostgreSQL connection URL of `ucc migrate` (and of serve's UCC_MIGRATE_ON_START): the owner of the tables (default UCC_DATABASE_URL when that is set, else postgres://postgres@127.0.0.1:5432/ucc?sslmode=disable)", Secret: true},
	{Name: "UCC_DATABASE_MAX_CONNS", Default: "20", Help: "maximum PostgreSQL connections in the pool"},
	{Name: "UCC_MIGRATE_ON_START", Default: "true", Help: "apply pending database migrations when `ucc serve` starts"},
	{Name: "UCC_REDIS_URL", Default: "redis://127.0.0.1:6379/0", Help: "Redis connection URL", Secret: true},
	{Name: "UCC_REDIS_PREFIX", Default: "ucc", Help: "namespace prefix of every Redis key"},
	{Name: "UCC_STORAGE", Default: "", Help: "object storage driver: fs or s3 (default s3 when UCC_S3_ENDPOINT is set, else fs)"},
	{Name: "UCC_STORAGE_DIR", Default: "./data/objects", Help: "directory of the fs storage driver"},
	{Name: "UCC_S3_ENDPOINT", Default: "", Help: "S3 endpoint host:port (e.g. 127.0.0.1:9000 for MinIO)"},
	{Name: "UCC_S3_BUCKET", Default: "ucc", Help: "S3 bucket (created when missing)"},
	{Name: "UCC_S3_ACCESS_KEY", Default: "", Help: "S3 access key", Secret: true},
	{Name: "UCC_S3_SECRET_KEY", Default: "", Help: "S3 secret key", Secret: true},
	{Name: "UCC_S3_USE_SSL", Default: "false", Help: "use HTTPS to reach the S3 endpoint"},
	{Name: "UCC_S3_REGION", Default: "us-east-1", Help: "S3 region"},
	{Name: "UCC_S3_PATH_STYLE", Default: "true", Help: "use path-style bucket addressing (MinIO); false for virtual-host style"},
	{Name: "UCC_SECRET_KEY", Default: "", Help: "secret for signing play tokens, viewer cookies and notices, at least 32 characters, the same on every process (e.g. `openssl rand -hex 32`); `ucc serve` refuses to start without it outside UCC_DEV, and refuses compose.yaml's former example key", Secret: true},
	{Name: "UCC_DEV", Default: "false", Help: "development mode: `ucc serve` may start without UCC_SECRET_KEY, with a random key for this one process (`make run` writes a key to ./data/secret-key instead)"},
	{Name: "UCC_METRICS_ADDR", Default: "", Help: "address of a separate listener serving only GET /metrics, for the monitoring network (e.g. 127.0.0.1:9090); empty: none"},
	{Name: "UCC_METRICS_TOKEN", Default: "", Help: "bearer token that opens GET /metrics on the public listener and shows /readyz's errors; empty: no metrics there (404)", Secret: true},
	{Name: "UCC_COOKIE_SECURE", Default: "auto", Help: "mark cookies Secure: auto (when UCC_BASE_URL is https), true or false"},
	{Name: "UCC_DEFAULT_LANGUAGE", Default: "ko", Help: "language of the pages, messages and CLI for readers who chose none and whose browser asks for none UCC speaks: ko or en"},
	{Name: "UCC_TRUSTED_PROXIES", Default: "", Help: "comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For is trusted"},
	{Name: "UCC_LOG_FORMAT", Default: "json", Help: "log format: json or text"},
	{Name: "UCC_LOG_LEVEL", Default: "info", Help: "log level: debug, info, warn or error"},
	{Name: "UCC_SHUTDOWN_TIMEOUT", Default: "30s", Help: "how long a graceful shutdown waits for requests and jobs"},
	{Name: "UCC_LOGIN_RATE_LIMIT", Default: "10", Help: "failed log-ins allowed per account from one client network (IPv4 address, IPv6 /64) within 15 minutes; a network gets 5 times as many over all accounts, and past 5 times as many on one account over all networks its attempts are spaced out (1 s doubling to 1 min)"},
	{Name: "UCC_LOGIN_HASH_CONCURRENCY", Default: "0", Help: "password hashes (argon2id, 64 MiB each) running at once per process; excess log-ins wait up to 2 s, then get 503 with Retry-After (0 = twice the CPUs, at most 16)"},
	{Name: "UCC_SIGNUP_RATE_LIMIT", Default: "10", Help: "sign-up attempts allowed per client IP per hour (0 turns the limit off)"},
	{Name: "UCC_SEARCH_RATE_LIMIT", Default: "60", Help: "searches allowed per client network (an IPv4 address, an IPv6 /64) per minute, sliding window (0 turns the limit off)"},
	{Name: "UCC_LIST_RATE_LIMIT", Default: "300", Help: "video list pages (home, channel, trending, feed, liked; pages and API) allowed per client network per minute, sliding window (0 turns the limit off)"},
	{Name: "UCC_QUERY_TIMEOUT", Default: "3s", Help: "statement timeout of the database queries of lists and search; a slower one is stopped and answered 503"},
	{Name: "UCC_UPLOAD_MAX_BYTES", Default: "8589934592", Help: "largest accepted upload in bytes (8 GiB)"},
	{Name: "UCC_UPLOAD_QUOTA_BYTES", Default: "107374182400", Help: "storage quota per creator in bytes (100 GiB; 0 = unlimited)"},
	{Name: "UCC_UPLOAD_MAX_OPEN_SESSIONS", Default: "5", Help: "resumable (tus) uploads one creator may have open at once"},
	{Name: "UCC_MEDIA_URL_TTL", Default: "10m", Help: "how long a presigned media link (renditions, thumbnails) stays valid; at most 1h"},
	{Name: "UCC_TRANSCODE_TIMEOUT", Default: "2h", Help: "longest a single transcoding job may run; a job past it fails for good (no retry), with the reason shown to the creator"},
	{Name: "UCC_TRANSCODE_MAX_PIXELS", Default: "9437184", Help: "largest picture (width × height) a video may have; bigger ones are refused at upload (4096×2304)"},
	{Name: "UCC_TRANSCODE_MAX_FRAMES", Default: "2592000", Help: "most video frames a file may have (12 hours at 60 fps)"},
	{Name: "UCC_TRANSCODE_MAX_DURATION", Default: "12h", Help: "longest video or audio file UCC accepts"},
	{Name: "UCC_TRANSCODE_MIN_BYTES_PER_SECOND", Default: "100", Help: "least average size per second of a file: a tiny file claiming hours is refused"},
	{Name: "UCC_TRANSCODE_MAX_STREAMS", Default: "16", Help: "most streams (video, audio, subtitles, ...) a file may have"},
	{Name: "UCC_TRANSCODE_MAX_BIT_DEPTH", Default: "12", Help: "most bits per sample a video may have"},
	{Name: "UCC_TRANSCODE_PER_CREATOR", Default: "2", Help: "transcoding jobs of one creator running at once across all workers; the others wait"},
	{Name: "UCC_TRANSCODE_MIN_FREE_BYTES", Default: "2147483648", Help: "disk space a transcoding job leaves free in the temporary directory beyond twice the original; with less the job waits (2 GiB)"},
	{Name: "UCC_IMAGE_MAX_DECODE_BYTES", Default: "67108864", Help: "memory a custom thumbnail may take once decoded (64 MiB; a 16-bit PNG takes 8 bytes a pixel)"},
	{Name: "UCC_IMAGE_DECODERS", Default: "2", Help: "images (custom thumbnails) one process decodes at once; the others wait"},
	{Name: "UCC_WORKERS", Default: "2", Help: "concurrent background jobs per worker process"},
	{Name: "UCC_VIEW_MIN_WATCH", Default: "30s", Help: "minimum watch time before a view counts (half the duration for shorter videos)"},
	{Name: "UCC_VIEW_DEDUP_WINDOW", Default: "1h", Help: "one counted view per viewer and video within this window"},
	{Name: "UCC_VIEW_FLUSH_INTERVAL", Default: "5s", Help: "how often pending view counts move from Redis to PostgreSQL"},
	{Name: "UCC_VIEW_IP_HOURLY_CAP", Default: "200", Help: "counted views per client network (an IPv4 address, an IPv6 /64) in any sliding hour (0 turns the cap off)"},
	{Name: "UCC_VIEW_NET_VIDEO_HOURLY_CAP", Default: "20", Help: "counted views of one video per client network in any sliding hour (0 turns the cap off)"},
	{Name: "UCC_VIEW_NET_CREATOR_HOURLY_CAP", Default: "60", Help: "counted views of one creator's videos per client network in any sliding hour (0 turns the cap off)"},
	{Name: "UCC_VIEW_ANON_MINT_HOURLY_CAP", Default: "30", Help: "fresh anonymous viewer ids per client network in any sliding hour; beyond it clients share the network's one id (0 turns the limit off)"},
	{Name: "UCC_VIEW_CREATOR_NETWORK_TTL", Default: "24h", Help: "how long plays from a network a creator was signed in from count as the creator's own (self-views, not counted; 0 turns it off)"},
	{Name: "UCC_JOB_RESCUE_AFTER", Default: "", Help: "how long a background job may stay running before it is taken to belong to a dead worker and retried; must exceed UCC_TRANSCODE_TIMEOUT (default UCC_TRANSCODE_TIMEOUT + 15m, at least 1h)"},
	{Name: "UCC_TEST_REVENUE_HOLD", Default: "", Help: "fault injection for tests, never set in production: `ucc revenue calculate` keeps its transaction open this long after writing every row, so a test can kill it mid-transaction"},
}

// DefaultMigrateDatabaseURL is the owner's URL when neither
// UCC_MIGRATE_DATABASE_URL nor UCC_DATABASE_URL is set (make run's setup:
// the local superuser over trust authentication).
const DefaultMigrateDatabaseURL = "postgres://postgres@127.0.0.1:5432/ucc?sslmode=disable"

// exampleSecretKeys are keys published in UCC's own files (compose.yaml
// carried the first as a default): anyone can sign with them.
var exampleSecretKeys = []string{"dev-only-secret-change-me-0123456789abcdef"}

// CheckServeSecret says why `ucc serve` must not start with c's secret: none
// set outside development mode (UCC_DEV), or a published example key.
func (c Config) CheckServeSecret() error {
	for _, k := range exampleSecretKeys {
		if string(c.SecretKey) == k {
			return &Error{Var: "UCC_SECRET_KEY", Msg: "is the example key once given in compose.yaml, which everyone can read: set a key of your own (e.g. openssl rand -hex 32)"}
		}
	}
	if c.SecretGenerated && !c.Dev {
		return &Error{Var: "UCC_SECRET_KEY", Msg: "is not set: ucc serve needs a key of at least 32 characters, the same on every process (e.g. UCC_SECRET_KEY=$(openssl rand -hex 32)); for a development process, UCC_DEV=1 uses a random key (make run writes one to ./data/secret-key)"}
	}
	return nil
}

// Specs returns every variable UCC reads, in documentation order.
func Specs() []Spec { return append([]Spec(nil), specs...) }

// S3 configures the s3 storage driver.
type S3 struct {
	Endpoint, Bucket, AccessKey, SecretKey, Region string
	UseSSL, PathStyle                              bool
}

// Config is the parsed configuration.
type Config struct {
	HTTPAddr    string
	BaseURL     string
	DatabaseURL string
	// MigrateDatabaseURL is the owner's URL, for migrations.
	MigrateDatabaseURL string
	DatabaseMaxConns   int32
	MigrateOnStart     bool
	RedisURL           string
	RedisPrefix        string
	Storage            string // "fs" or "s3"
	StorageDir         string
	S3                 S3
	SecretKey          []byte
	SecretGenerated    bool
	Dev                bool   // UCC_DEV
	MetricsAddr        string // UCC_METRICS_ADDR ("" for none)
	MetricsToken       string // UCC_METRICS_TOKEN
	CookieSecure       bool
	TrustedProxies     []netip.Prefix
	DefaultLanguage    string // "ko" or "en"
	LogFormat          string
	LogLevel           string
	ShutdownTimeout    time.Duration
	LoginRateLimit     int
	// LoginHashConcurrency bounds concurrent password hashes (0: twice GOMAXPROCS).
	LoginHashConcurrency int
	SignupRateLimit      int
	SearchRateLimit      int
	ListRateLimit        int
	QueryTimeout         time.Duration
	UploadMaxBytes       int64
	UploadQuotaBytes     int64
	TranscodeTimeout     time.Duration
	Workers              int
	ViewMinWatch         time.Duration
	ViewDedupWindow      time.Duration
	ViewFlushEvery       time.Duration
	ViewIPHourlyCap      int
	// UploadMaxOpen caps a creator's open tus sessions (UCC_UPLOAD_MAX_OPEN_SESSIONS).
	UploadMaxOpen int
	// MediaURLTTL is how long presigned media links live (UCC_MEDIA_URL_TTL).
	MediaURLTTL time.Duration
	// Transcode limits (UCC_TRANSCODE_MAX_*, UCC_TRANSCODE_PER_CREATOR,
	// UCC_TRANSCODE_MIN_FREE_BYTES, UCC_IMAGE_*).
	TranscodeMaxPixels, TranscodeMaxFrames       int64
	TranscodeMaxDuration                         time.Duration
	TranscodeMinBytesPerSecond, TranscodeMinFree int64
	TranscodeMaxStreams, TranscodeMaxBitDepth    int
	TranscodePerCreator                          int
	ImageMaxDecodeBytes                          int64
	ImageDecoders                                int
	// ViewVideoHourlyCap, ViewCreatorHourlyCap and ViewMintHourlyCap are
	// the per-network sliding-hour limits; ViewCreatorNetworkTTL how long a
	// creator's signed-in network marks self-views.
	ViewVideoHourlyCap    int
	ViewCreatorHourlyCap  int
	ViewMintHourlyCap     int
	ViewCreatorNetworkTTL time.Duration
	// JobRescueAfter is how long a job may run before River retries it as
	// abandoned by a dead worker (UCC_JOB_RESCUE_AFTER).
	JobRescueAfter time.Duration
	// Faults are fault-injection settings for the crash tests; all zero
	// in production.
	Faults Faults
}

// Faults are fault-injection settings (UCC_TEST_*), read only so that tests
// driving the built binary can stop it at a chosen point. Production leaves
// them unset.
type Faults struct {
	// RevenueHold keeps `ucc revenue calculate`'s transaction open this
	// long once every row is written (UCC_TEST_REVENUE_HOLD; 0 = no hold).
	RevenueHold time.Duration
}

// Error is a configuration error naming the variable at fault.
type Error struct {
	Var string
	Msg string
}

// Error is the line start-up stops with: "config: VAR what is wrong".
func (e *Error) Error() string { return fmt.Sprintf("config: %s %s", e.Var, e.Msg) }

// Load reads the configuration from the process environment.
func Load() (Config, error) { return LoadFrom(os.LookupEnv, os.ReadFile) }

// LoadFrom reads the configuration through lookup (os.LookupEnv in
// production) and readFile (for *_FILE secrets).
func LoadFrom(lookup func(string) (string, bool), readFile func(string) ([]byte, error)) (Config, error) {
	p := parser{lookup: lookup, readFile: readFile}
	var c Config
	c.HTTPAddr = p.addr("UCC_HTTP_ADDR")
	c.BaseURL = p.str("UCC_BASE_URL")
	derived := c.BaseURL == ""
	if derived {
		c.BaseURL = "http://" + c.HTTPAddr
	}
	if p.err == nil {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
			// Schemes are case-insensitive; write it lower-case so that
			// "HTTPS://..." is recognised as https everywhere.
			c.BaseURL = u.Scheme + c.BaseURL[len(u.Scheme):]
		case derived:
			p.fail("UCC_HTTP_ADDR", "must be host:port such as 127.0.0.1:8080, got %q", c.HTTPAddr)
		default:
			p.fail("UCC_BASE_URL", "must be an http(s) URL such as https://video.example.com, got %q", c.BaseURL)
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	c.DatabaseURL = p.url("UCC_DATABASE_URL", "postgres", "postgresql")
	switch {
	case p.set("UCC_MIGRATE_DATABASE_URL"):
		c.MigrateDatabaseURL = p.url("UCC_MIGRATE_DATABASE_URL", "postgres", "postgresql")
	case p.set("UCC_DATABASE_URL"):
		c.MigrateDatabaseURL = c.DatabaseURL // one URL given: it serves both
	default:
		c.MigrateDatabaseURL = DefaultMigrateDatabaseURL
	}
	c.DatabaseMaxConns = int32(p.intRange("UCC_DATABASE_MAX_CONNS", 1, 1000))
	c.MigrateOnStart = p.bool("UCC_MIGRATE_ON_START")
	c.RedisURL = p.url("UCC_REDIS_URL", "redis", "rediss")
	c.RedisPrefix = p.str("UCC_REDIS_PREFIX")
	if strings.ContainsAny(c.RedisPrefix, "{} \t\n") && p.err == nil {
		p.fail("UCC_REDIS_PREFIX", "must not contain braces or spaces, got %q", c.RedisPrefix)
	}
	c.S3 = S3{
		Endpoint:  p.str("UCC_S3_ENDPOINT"),
		Bucket:    p.str("UCC_S3_BUCKET"),
		AccessKey: p.str("UCC_S3_ACCESS_KEY"),
		SecretKey: p.str("UCC_S3_SECRET_KEY"),
		UseSSL:    p.bool("UCC_S3_USE_SSL"),
		Region:    p.str("UCC_S3_REGION"),
		PathStyle: p.bool("UCC_S3_PATH_STYLE"),
	}
	c.Storage = p.str("UCC_STORAGE")
	if c.Storage == "" {
		c.Storage = "fs"
		if c.S3.Endpoint != "" {
			c.Storage = "s3"
		}
	}
	c.StorageDir = p.str("UCC_STORAGE_DIR")
	switch c.Storage {
	case "fs":
		if c.StorageDir == "" {
			p.fail("UCC_STORAGE_DIR", "must name a directory when UCC_STORAGE=fs")
		}
	case "s3":
		if c.S3.Endpoint == "" {
			p.fail("UCC_S3_ENDPOINT", "must be set when UCC_STORAGE=s3 (host:port of the S3 server)")
		} else if strings.Contains(c.S3.Endpoint, "://") || strings.Contains(c.S3.Endpoint, "/") {
			p.fail("UCC_S3_ENDPOINT", "must be host:port without scheme or path (use UCC_S3_USE_SSL for https), got %q", c.S3.Endpoint)
		}
		if c.S3.Bucket == "" {
			p.fail("UCC_S3_BUCKET", "must be set when UCC_STORAGE=s3")
		}
		if c.S3.AccessKey == "" {
			p.fail("UCC_S3_ACCESS_KEY", "must be set when UCC_STORAGE=s3")
		}
		if c.S3.SecretKey == "" {
			p.fail("UCC_S3_SECRET_KEY", "must be set when UCC_STORAGE=s3")
		}
	default:
		p.fail("UCC_STORAGE", "must be fs or s3, got %q", c.Storage)
	}
	if k := p.str("UCC_SECRET_KEY"); k != "" {
		if len(k) < 32 {
			p.fail("UCC_SECRET_KEY", "must be at least 32 characters long")
		}
		c.SecretKey = []byte(k)
	} else {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		c.SecretKey = []byte(hex.EncodeToString(b))
		c.SecretGenerated = true
	}
	c.Dev = p.bool("UCC_DEV")
	if c.MetricsAddr = p.str("UCC_METRICS_ADDR"); c.MetricsAddr != "" {
		c.MetricsAddr = p.addr("UCC_METRICS_ADDR")
	}
	if c.MetricsToken = p.str("UCC_METRICS_TOKEN"); c.MetricsToken != "" && len(c.MetricsToken) < 16 && p.err == nil {
		p.fail("UCC_METRICS_TOKEN", "must be at least 16 characters long")
	}
	switch v := p.str("UCC_COOKIE_SECURE"); v {
	case "auto":
		c.CookieSecure = strings.HasPrefix(c.BaseURL, "https://")
	case "true", "1":
		c.CookieSecure = true
	case "false", "0":
	default:
		p.fail("UCC_COOKIE_SECURE", "must be auto, true or false, got %q", v)
	}
	c.TrustedProxies = p.prefixes("UCC_TRUSTED_PROXIES")
	c.DefaultLanguage = p.oneOf("UCC_DEFAULT_LANGUAGE", i18n.Languages()...)
	c.LogFormat = p.oneOf("UCC_LOG_FORMAT", "json", "text")
	c.LogLevel = p.oneOf("UCC_LOG_LEVEL", "debug", "info", "warn", "error")
	c.ShutdownTimeout = p.duration("UCC_SHUTDOWN_TIMEOUT", time.Second)
	c.LoginRateLimit = p.intRange("UCC_LOGIN_RATE_LIMIT", 1, 1_000_000)
	c.LoginHashConcurrency = p.intRange("UCC_LOGIN_HASH_CONCURRENCY", 0, 4096)
	c.SignupRateLimit = p.intRange("UCC_SIGNUP_RATE_LIMIT", 0, 1_000_000)
	c.SearchRateLimit = p.intRange("UCC_SEARCH_RATE_LIMIT", 0, 1_000_000)
	c.ListRateLimit = p.intRange("UCC_LIST_RATE_LIMIT", 0, 1_000_000)
	c.QueryTimeout = p.duration("UCC_QUERY_TIMEOUT", 10*time.Millisecond)
	c.UploadMaxBytes = p.int64Range("UCC_UPLOAD_MAX_BYTES", 1)
	c.UploadQuotaBytes = p.int64Range("UCC_UPLOAD_QUOTA_BYTES", 0)
	c.TranscodeTimeout = p.duration("UCC_TRANSCODE_TIMEOUT", time.Second)
	c.Workers = p.intRange("UCC_WORKERS", 1, 256)
	c.UploadMaxOpen = p.intRange("UCC_UPLOAD_MAX_OPEN_SESSIONS", 1, 1000)
	c.MediaURLTTL = p.duration("UCC_MEDIA_URL_TTL", time.Minute)
	if p.err == nil && c.MediaURLTTL > time.Hour {
		p.fail("UCC_MEDIA_URL_TTL", "must be at most 1h (a link to a video turned private works until it expires), got %s", c.MediaURLTTL)
	}
	c.TranscodeMaxPixels = p.int64Range("UCC_TRANSCODE_MAX_PIXELS", 64*64)
	c.TranscodeMaxFrames = p.int64Range("UCC_TRANSCODE_MAX_FRAMES", 1)
	c.TranscodeMaxDuration = p.duration("UCC_TRANSCODE_MAX_DURATION", time.Second)
	c.TranscodeMinBytesPerSecond = p.int64Range("UCC_TRANSCODE_MIN_BYTES_PER_SECOND", 1)
	c.TranscodeMaxStreams = p.intRange("UCC_TRANSCODE_MAX_STREAMS", 1, 1024)
	c.TranscodeMaxBitDepth = p.intRange("UCC_TRANSCODE_MAX_BIT_DEPTH", 8, 32)
	c.TranscodePerCreator = p.intRange("UCC_TRANSCODE_PER_CREATOR", 1, 1024)
	c.TranscodeMinFree = p.int64Range("UCC_TRANSCODE_MIN_FREE_BYTES", 1)
	c.ImageMaxDecodeBytes = p.int64Range("UCC_IMAGE_MAX_DECODE_BYTES", 1<<20)
	c.ImageDecoders = p.intRange("UCC_IMAGE_DECODERS", 1, 256)
	c.ViewMinWatch = p.duration("UCC_VIEW_MIN_WATCH", 0)
	c.ViewDedupWindow = p.duration("UCC_VIEW_DEDUP_WINDOW", time.Second)
	c.ViewFlushEvery = p.duration("UCC_VIEW_FLUSH_INTERVAL", 100*time.Millisecond)
	c.ViewIPHourlyCap = p.intRange("UCC_VIEW_IP_HOURLY_CAP", 0, 1<<30)
	c.ViewVideoHourlyCap = p.intRange("UCC_VIEW_NET_VIDEO_HOURLY_CAP", 0, 1<<30)
	c.ViewCreatorHourlyCap = p.intRange("UCC_VIEW_NET_CREATOR_HOURLY_CAP", 0, 1<<30)
	c.ViewMintHourlyCap = p.intRange("UCC_VIEW_ANON_MINT_HOURLY_CAP", 0, 1<<30)
	c.ViewCreatorNetworkTTL = p.duration("UCC_VIEW_CREATOR_NETWORK_TTL", 0)
	c.JobRescueAfter = max(time.Hour, c.TranscodeTimeout+15*time.Minute)
	if p.str("UCC_TEST_REVENUE_HOLD") != "" {
		c.Faults.RevenueHold = p.duration("UCC_TEST_REVENUE_HOLD", 0)
	}
	if p.str("UCC_JOB_RESCUE_AFTER") != "" {
		c.JobRescueAfter = p.duration("UCC_JOB_RESCUE_AFTER", time.Second)
		if p.err == nil && c.JobRescueAfter <= c.TranscodeTimeout {
			p.fail("UCC_JOB_RESCUE_AFTER", "must be longer than UCC_TRANSCODE_TIMEOUT (%s), or a running transcode would be started twice; got %s", c.TranscodeTimeout, c.JobRescueAfter)
		}
	}
	return c, p.err
}

type parser struct {
	lookup   func(string) (string, bool)
	readFile func(string) ([]byte, error)
	err      error
}

func (p *parser) fail(name, format string, args ...any) {
	if p.err == nil {
		p.err = &Error{Var: name, Msg: fmt.Sprintf(format, args...)}
	}
}

func specFor(name string) Spec {
	for _, s := range specs {
		if s.Name == name {
			return s
		}
	}
	panic("config: undeclared variable " + name)
}

// set reports whether the variable (or, for a secret, NAME_FILE) is given.
func (p *parser) set(name string) bool {
	if v, ok := p.lookup(name); ok && v != "" {
		return true
	}
	f, ok := p.lookup(name + "_FILE")
	return specFor(name).Secret && ok && f != ""
}

// str returns the raw value: the variable, else NAME_FILE's content for
// secrets, else the default.
func (p *parser) str(name string) string {
	s := specFor(name)
	if v, ok := p.lookup(name); ok && v != "" {
		return v
	}
	if s.Secret {
		if f, ok := p.lookup(name + "_FILE"); ok && f != "" {
			b, err := p.readFile(f)
			if err != nil {
				p.fail(name+"_FILE", "cannot be read: %v", err)
				return ""
			}
			return strings.TrimRight(string(b), "\r\n")
		}
	}
	return s.Default
}

func (p *parser) addr(name string) string {
	v := p.str(name)
	_, port, err := net.SplitHostPort(v)
	if n, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || strconv.FormatUint(n, 10) != port {
		p.fail(name, "must be host:port with a port number, such as 127.0.0.1:8080, got %q", v)
	}
	return v
}

func (p *parser) url(name string, schemes ...string) string {
	v := p.str(name)
	u, err := url.Parse(v)
	if err != nil {
		p.fail(name, "is not a valid URL")
		return v
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return v
		}
	}
	p.fail(name, "must be a %s:// URL, got scheme %q", schemes[0], u.Scheme)
	return v
}

func (p *parser) bool(name string) bool {
	v := p.str(name)
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, "must be true or false, got %q", v)
	}
	return b
}

func (p *parser) intRange(name string, lo, hi int) int {
	v := p.str(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, "must be a whole number from %d to %d, got %q", lo, hi, v)
	}
	return n
}

func (p *parser) int64Range(name string, lo int64) int64 {
	v := p.str(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo {
		p.fail(name, "must be a whole number of at least %d, got %q", lo, v)
	}
	return n
}

func (p *parser) duration(name string, min time.Duration) time.Duration {
	v := p.str(name)
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		p.fail(name, "must be a Go duration of at least %s such as 30s or 1h, got %q", min, v)
	}
	return d
}

func (p *parser) oneOf(name string, allowed ...string) string {
	v := p.str(name)
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	return v
}

func (p *parser) prefixes(name string) []netip.Prefix {
	v := p.str(name)
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if pr, err := netip.ParsePrefix(f); err == nil {
			out = append(out, pr.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			p.fail(name, "must list IPs or CIDRs separated by commas, got %q", f)
			return nil
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}
