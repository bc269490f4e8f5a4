package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/i18n"
	"github.com/ucc-video/ucc/storage/postgres"
)

func runUsers(ctx context.Context, args []string, e env) error {
	stdout := e.stdout
	if len(args) == 0 || (args[0] != "create" && args[0] != "set-role") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "Usage: ucc users create --email E --role viewer|creator|finance|admin [--display-name N] [--password-stdin]\n       ucc users set-role --email E --role R")
			return nil
		}
		return usageError{"expected `create` or `set-role`"}
	}
	action := args[0]
	fs := newFlagSet("users "+action, "users "+action+" --email E --role viewer|creator|finance|admin", stdout)
	email := fs.String("email", "", "the account's email (required)")
	roleName := fs.String("role", "viewer", "viewer, creator, finance or admin")
	display := fs.String("display-name", "", "display name (default: the part of the email before @)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of prompting")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return usageError{"--email is required"}
	}
	role, err := accounts.ParseRole(*roleName)
	if err != nil {
		return usageError{err.Error()}
	}
	_, db, err := e.openDB(ctx, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	store := postgres.NewUsers(db)
	if action == "set-role" {
		norm, err := accounts.NormalizeEmail(*email)
		if err != nil {
			return err
		}
		u, _, err := store.UserByEmail(ctx, norm)
		if err != nil {
			return fmt.Errorf("%s: %w", e.say().T("cli.no_account", "Email", norm), err)
		}
		if err := store.SetRole(ctx, u.ID, role); err != nil {
			return err
		}
		fmt.Fprintln(stdout, e.say().T("cli.role_set", "ID", fmt.Sprint(u.ID), "Email", u.Email, "Role", string(role)))
		return nil
	}
	password, err := readPassword(e.stdin, e.stderr, *pwStdin, e.say())
	if err != nil {
		return err
	}
	svc := accounts.NewService(store, noLimiter{}, accounts.DefaultConfig(), time.Now)
	u, err := svc.Signup(ctx, *email, password, *display, role)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, e.say().T("cli.user_created", "ID", fmt.Sprint(u.ID), "Email", u.Email, "Role", string(u.Role)))
	return nil
}

// readPassword prompts twice without echo on a terminal (in say's
// language), else reads one line.
func readPassword(stdin io.Reader, stderr io.Writer, fromStdin bool, say *i18n.Localizer) (string, error) {
	if f, ok := stdin.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, say.T("cli.password")+" ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, say.T("cli.password_again")+" ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New(say.T("cli.passwords_differ"))
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New(say.T("cli.no_password"))
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// noLimiter is for operator commands, which are not rate limited.
type noLimiter struct{}

func (noLimiter) Reserve(context.Context, string, int64, time.Duration) (bool, time.Duration, error) {
	return true, 0, nil
}
func (noLimiter) Backoff(context.Context, string, int64, time.Duration, time.Duration, time.Duration) (bool, time.Duration, error) {
	return true, 0, nil
}
func (noLimiter) Release(context.Context, string) error                     { return nil }
func (noLimiter) Hit(context.Context, string, time.Duration) (int64, error) { return 0, nil }
func (noLimiter) Reset(context.Context, string) error                       { return nil }
