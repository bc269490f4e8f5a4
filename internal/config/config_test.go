package config

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func load(env map[string]string) (Config, error) {
	return LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, func(p string) ([]byte, error) {
		if p == "/run/secrets/s3" {
			return []byte("from-file\n"), nil
		}
		return nil, os.ErrNotExist
	})
}

func TestDefaultsWorkOnThisMachine(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:8080" || c.Storage != "fs" || c.BaseURL != "http://127.0.0.1:8080" ||
		!strings.Contains(c.DatabaseURL, "127.0.0.1:5432") || !strings.Contains(c.RedisURL, "127.0.0.1:6379") {
		t.Fatalf("defaults: %+v", c)
	}
	if c.ViewMinWatch != 30*time.Second || c.ViewDedupWindow != time.Hour || c.ViewFlushEvery != 5*time.Second {
		t.Fatalf("view defaults: %v %v %v", c.ViewMinWatch, c.ViewDedupWindow, c.ViewFlushEvery)
	}
	if !c.SecretGenerated || len(c.SecretKey) < 32 {
		t.Fatal("expected a generated secret")
	}
}

func TestS3SelectedByEndpointAndSecretsFromFiles(t *testing.T) {
	c, err := load(map[string]string{"UCC_S3_ENDPOINT": "127.0.0.1:9000", "UCC_S3_ACCESS_KEY": "ak", "UCC_S3_SECRET_KEY_FILE": "/run/secrets/s3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Storage != "s3" || c.S3.SecretKey != "from-file" || !c.S3.PathStyle {
		t.Fatalf("s3 config: %+v", c.S3)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"UCC_HTTP_ADDR":           {"UCC_HTTP_ADDR": "8080"},
		"UCC_DATABASE_URL":        {"UCC_DATABASE_URL": "mysql://x"},
		"UCC_STORAGE":             {"UCC_STORAGE": "ftp"},
		"UCC_S3_ENDPOINT":         {"UCC_STORAGE": "s3"},
		"UCC_S3_ACCESS_KEY":       {"UCC_S3_ENDPOINT": "h:1"},
		"UCC_VIEW_MIN_WATCH":      {"UCC_VIEW_MIN_WATCH": "thirty"},
		"UCC_VIEW_IP_HOURLY_CAP":  {"UCC_VIEW_IP_HOURLY_CAP": "-1"},
		"UCC_SECRET_KEY":          {"UCC_SECRET_KEY": "short"},
		"UCC_TRUSTED_PROXIES":     {"UCC_TRUSTED_PROXIES": "10.0.0.0/8, nonsense"},
		"UCC_S3_USE_SSL":          {"UCC_S3_USE_SSL": "maybe"},
		"UCC_DATABASE_URL_FILE":   {"UCC_DATABASE_URL_FILE": "/nope"},
		"UCC_UPLOAD_MAX_BYTES":    {"UCC_UPLOAD_MAX_BYTES": "0"},
		"UCC_VIEW_FLUSH_INTERVAL": {"UCC_VIEW_FLUSH_INTERVAL": "1ms"},
		"UCC_JOB_RESCUE_AFTER":    {"UCC_JOB_RESCUE_AFTER": "30m", "UCC_TRANSCODE_TIMEOUT": "1h"},
	}
	for name, env := range cases {
		_, err := load(env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != name {
			t.Errorf("%v: got %v, want an error naming %s", env, err, name)
			continue
		}
		if strings.Contains(ce.Error(), "\n") {
			t.Errorf("error is not one line: %q", ce.Error())
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := load(map[string]string{"UCC_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[1].String() != "192.168.1.7/32" {
		t.Fatalf("proxies = %v", c.TrustedProxies)
	}
}

func TestJobRescueAfter(t *testing.T) {
	c, err := load(map[string]string{"UCC_TRANSCODE_TIMEOUT": "3h"})
	if err != nil || c.JobRescueAfter != 3*time.Hour+15*time.Minute {
		t.Fatalf("default with a 3h transcode timeout = %v, %v", c.JobRescueAfter, err)
	}
	c, err = load(map[string]string{"UCC_TRANSCODE_TIMEOUT": "10s", "UCC_JOB_RESCUE_AFTER": "12s"})
	if err != nil || c.JobRescueAfter != 12*time.Second {
		t.Fatalf("UCC_JOB_RESCUE_AFTER=12s = %v, %v", c.JobRescueAfter, err)
	}
}

// TestCookieSecureFollowsTheBaseURL: auto marks cookies Secure exactly for
// an https base URL, whatever the case of its scheme; true/false override.
func TestCookieSecureFollowsTheBaseURL(t *testing.T) {
	for _, c := range []struct {
		base, setting string
		want          bool
	}{
		{"https://video.example.com", "auto", true}, {"HTTPS://video.example.com", "", true},
		{"http://video.example.com", "auto", false}, {"http://video.example.com", "true", true},
		{"https://video.example.com", "false", false}, {"", "", false},
	} {
		cfg, err := load(map[string]string{"UCC_BASE_URL": c.base, "UCC_COOKIE_SECURE": c.setting})
		if err != nil || cfg.CookieSecure != c.want || strings.HasPrefix(cfg.BaseURL, "HTTP") {
			t.Errorf("base %q, UCC_COOKIE_SECURE=%q: Secure %v, base %q (%v); want Secure %v", c.base, c.setting, cfg.CookieSecure, cfg.BaseURL, err, c.want)
		}
	}
}
