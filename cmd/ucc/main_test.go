package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

func ucc(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpForEveryCommand(t *testing.T) {
	if code, out, _ := ucc(t, "", "--help"); code != 0 || !strings.Contains(out, "serve") || !strings.Contains(out, "UCC_DATABASE_URL") {
		t.Fatalf("ucc --help: %d %s", code, out)
	}
	for _, c := range commands() {
		code, out, errOut := ucc(t, "", c.name, "--help")
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "ucc "+c.name) {
			t.Errorf("ucc %s --help: code %d, out %q, err %q", c.name, code, out, errOut)
		}
	}
	if code, _, errOut := ucc(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
}

func TestBadConfigStopsWithOneLine(t *testing.T) {
	t.Setenv("UCC_STORAGE", "tape")
	code, _, errOut := ucc(t, "", "serve")
	if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "UCC_STORAGE") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	if code, _, errOut := ucc(t, "", "serve", "--role", "chef"); code != 2 || !strings.Contains(errOut, "--role") {
		t.Fatalf("bad role: %d %q", code, errOut)
	}
}

func TestUsersCreateAndMigrateStatus(t *testing.T) {
	t.Setenv("UCC_DATABASE_URL", pgtest.URL(t))
	t.Setenv("UCC_LOG_FORMAT", "text")
	code, out, errOut := ucc(t, "s3cret-password\n", "users", "create", "--email", "Fin@Example.com", "--role", "finance", "--password-stdin")
	if code != 0 || !strings.Contains(out, "with role finance") {
		t.Fatalf("users create: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := ucc(t, "s3cret-password\n", "users", "create", "--email", "fin@example.com", "--role", "finance", "--password-stdin"); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate: %d %q", code, errOut)
	}
	if code, _, errOut := ucc(t, "x\n", "users", "create", "--email", "a@example.com", "--role", "king"); code != 2 || !strings.Contains(errOut, "role") {
		t.Fatalf("bad role: %d %q", code, errOut)
	}
	if code, out, _ := ucc(t, "", "users", "set-role", "--email", "fin@example.com", "--role", "admin"); code != 0 || !strings.Contains(out, "now admin") {
		t.Fatalf("set-role: %d %q", code, out)
	}
	code, out, _ = ucc(t, "", "migrate", "status")
	if code != 0 || !strings.Contains(out, "00001_accounts.sql") || strings.Contains(out, "  pending  ") {
		t.Fatalf("migrate status: %d\n%s", code, out)
	}
}
