package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ucc-video/ucc/internal/config"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

// configOf parses vars as the configuration, instead of the process
// environment, so tests need no t.Setenv and run in parallel.
func configOf(vars map[string]string) func() (config.Config, error) {
	return func() (config.Config, error) {
		return config.LoadFrom(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, os.ReadFile)
	}
}

// ucc runs the command line args with vars as its configuration.
func ucc(t *testing.T, vars map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return uccIn(t, "", vars, stdin, args...)
}

// uccIn is ucc in the process locale locale ("ko_KR.UTF-8").
func uccIn(t *testing.T, locale string, vars map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runEnv(context.Background(), args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, config: configOf(vars), locale: locale})
	return code, out.String(), errb.String()
}

func TestHelpForEveryCommand(t *testing.T) {
	t.Parallel()
	if code, out, _ := ucc(t, nil, "", "--help"); code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "UCC_DATABASE_URL") {
		t.Fatalf("ucc --help: %d %s", code, out)
	}
	for _, c := range commands() {
		code, out, errOut := ucc(t, nil, "", c.name, "--help")
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "ucc "+c.name) {
			t.Errorf("ucc %s --help: code %d, out %q, err %q", c.name, code, out, errOut)
		}
	}
	if code, _, errOut := ucc(t, nil, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
}

func TestBadConfigStopsWithOneLine(t *testing.T) {
	t.Parallel()
	code, _, errOut := ucc(t, map[string]string{"UCC_STORAGE": "tape"}, "", "serve")
	if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "UCC_STORAGE") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	if code, _, errOut := ucc(t, nil, "", "serve", "--role", "chef"); code != 2 || !strings.Contains(errOut, "--role") {
		t.Fatalf("bad role: %d %q", code, errOut)
	}
}

func TestUsersCreateAndMigrateStatus(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"UCC_DATABASE_URL": pgtest.URL(t), "UCC_LOG_FORMAT": "text", "UCC_DEFAULT_LANGUAGE": "en"}
	code, out, errOut := ucc(t, vars, "s3cret-password\n", "users", "create", "--email", "Fin@Example.com", "--role", "finance", "--password-stdin")
	if code != 0 || !strings.Contains(out, "with role finance") {
		t.Fatalf("users create: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := ucc(t, vars, "s3cret-password\n", "users", "create", "--email", "fin@example.com", "--role", "finance", "--password-stdin"); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate: %d %q", code, errOut)
	}
	if code, _, errOut := ucc(t, vars, "x\n", "users", "create", "--email", "a@example.com", "--role", "king"); code != 2 || !strings.Contains(errOut, "role") {
		t.Fatalf("bad role: %d %q", code, errOut)
	}
	if code, out, _ := ucc(t, vars, "", "users", "set-role", "--email", "fin@example.com", "--role", "admin"); code != 0 || !strings.Contains(out, "now admin") {
		t.Fatalf("set-role: %d %q", code, out)
	}
	// In Korean: by the locale, or by UCC_DEFAULT_LANGUAGE when the locale names no language UCC speaks.
	if code, out, _ := uccIn(t, "ko_KR.UTF-8", vars, "s3cret-password\n", "users", "create", "--email", "minsu@example.com", "--role", "creator", "--password-stdin"); code != 0 || !strings.Contains(out, "creator 역할로 만들었습니다") {
		t.Fatalf("users create in Korean: %d %q", code, out)
	}
	ko := map[string]string{"UCC_DATABASE_URL": vars["UCC_DATABASE_URL"], "UCC_DEFAULT_LANGUAGE": "ko"}
	if code, _, errOut := uccIn(t, "C.UTF-8", ko, "s3cret-password\n", "users", "create", "--email", "minsu@example.com", "--password-stdin"); code != 1 || !strings.Contains(errOut, "이 이메일로 만든 계정이 이미 있습니다") {
		t.Fatalf("duplicate in Korean: %d %q", code, errOut)
	}
	if code, out, _ := uccIn(t, "en_US.UTF-8", ko, "", "users", "set-role", "--email", "minsu@example.com", "--role", "viewer"); code != 0 || !strings.Contains(out, "is now viewer") {
		t.Fatalf("set-role in an English locale: %d %q", code, out)
	}
	code, out, _ = ucc(t, vars, "", "migrate", "status")
	if code != 0 || !strings.Contains(out, "00001_accounts.sql") || strings.Contains(out, "  pending  ") {
		t.Fatalf("migrate status: %d\n%s", code, out)
	}
}
