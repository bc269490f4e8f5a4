package config

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzLoad sets up to three UCC_* variables (chosen by index) to arbitrary
// values: Load never panics, a refusal is a *config.Error naming a declared
// variable with a message, and an accepted configuration keeps every
// invariant the rest of UCC relies on.
func FuzzLoad(f *testing.F) {
	idx := func(name string) uint8 {
		for i, s := range specs {
			if s.Name == name {
				return uint8(i)
			}
		}
		panic(name)
	}
	f.Add(idx("UCC_HTTP_ADDR"), ":0", idx("UCC_BASE_URL"), "https://video.example.com/", idx("UCC_COOKIE_SECURE"), "auto")
	f.Add(idx("UCC_S3_ENDPOINT"), "127.0.0.1:9000", idx("UCC_S3_ACCESS_KEY"), "ak", idx("UCC_S3_SECRET_KEY"), "sk")
	f.Add(idx("UCC_STORAGE"), "s3", idx("UCC_S3_ENDPOINT"), "http://x/", idx("UCC_SECRET_KEY"), "short")
	f.Add(idx("UCC_TRUSTED_PROXIES"), "10.0.0.0/8, ::1,bad", idx("UCC_REDIS_PREFIX"), "a{b}", idx("UCC_LOG_LEVEL"), "trace")
	f.Add(idx("UCC_VIEW_FLUSH_INTERVAL"), "1ns", idx("UCC_UPLOAD_MAX_BYTES"), "-1", idx("UCC_WORKERS"), "99999999999999999999")
	f.Add(idx("UCC_DATABASE_URL"), "mysql://x", idx("UCC_REDIS_URL"), "redis://[::1", idx("UCC_SHUTDOWN_TIMEOUT"), "-5s")
	f.Add(idx("UCC_BASE_URL"), "javascript:alert(1)", idx("UCC_SIGNUP_RATE_LIMIT"), "0", idx("UCC_LOGIN_RATE_LIMIT"), "0")
	f.Fuzz(func(t *testing.T, i1 uint8, v1 string, i2 uint8, v2 string, i3 uint8, v3 string) {
		env := map[string]string{}
		for _, kv := range []struct {
			i uint8
			v string
		}{{i1, v1}, {i2, v2}, {i3, v3}} {
			env[specs[int(kv.i)%len(specs)].Name] = kv.v
		}
		c, err := LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok },
			func(string) ([]byte, error) { return nil, errors.New("no files here") })
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.Msg == "" {
				t.Fatalf("error %v is not a *config.Error with a message", err)
			}
			base := strings.TrimSuffix(ce.Var, "_FILE")
			declared := false
			for _, s := range specs {
				declared = declared || s.Name == base
			}
			if !declared {
				t.Fatalf("error names undeclared variable %q", ce.Var)
			}
			return
		}
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			t.Fatalf("HTTPAddr %q accepted", c.HTTPAddr)
		}
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.HasSuffix(c.BaseURL, "/") {
			t.Fatalf("BaseURL %q accepted", c.BaseURL)
		}
		if c.CookieSecure && env["UCC_COOKIE_SECURE"] != "true" && env["UCC_COOKIE_SECURE"] != "1" && u.Scheme != "https" {
			t.Fatalf("cookies Secure over %s with UCC_COOKIE_SECURE=%q", u.Scheme, env["UCC_COOKIE_SECURE"])
		}
		if !c.CookieSecure && u.Scheme == "https" && env["UCC_COOKIE_SECURE"] != "false" && env["UCC_COOKIE_SECURE"] != "0" {
			t.Fatalf("https base URL %q without Secure cookies (UCC_COOKIE_SECURE=%q)", c.BaseURL, env["UCC_COOKIE_SECURE"])
		}
		switch c.Storage {
		case "fs":
			if c.StorageDir == "" {
				t.Fatal("fs storage without a directory")
			}
		case "s3":
			if c.S3.Endpoint == "" || strings.Contains(c.S3.Endpoint, "/") || c.S3.Bucket == "" || c.S3.AccessKey == "" || c.S3.SecretKey == "" {
				t.Fatalf("incomplete s3 config accepted: %+v", c.S3)
			}
		default:
			t.Fatalf("storage %q accepted", c.Storage)
		}
		if len(c.SecretKey) < 32 || strings.ContainsAny(c.RedisPrefix, "{} \t\n") {
			t.Fatalf("secret of %d bytes or Redis prefix %q accepted", len(c.SecretKey), c.RedisPrefix)
		}
		if c.LoginRateLimit < 1 || c.SignupRateLimit < 0 || c.UploadMaxBytes < 1 || c.UploadQuotaBytes < 0 || c.Workers < 1 || c.DatabaseMaxConns < 1 {
			t.Fatalf("limits accepted: %+v", c)
		}
		if c.ShutdownTimeout < time.Second || c.TranscodeTimeout < time.Second || c.ViewDedupWindow < time.Second ||
			c.ViewFlushEvery < 100*time.Millisecond || c.ViewMinWatch < 0 {
			t.Fatalf("durations accepted: %+v", c)
		}
		for _, p := range c.TrustedProxies {
			if !p.IsValid() || p != p.Masked() {
				t.Fatalf("trusted proxy %v accepted", p)
			}
		}
	})
}
