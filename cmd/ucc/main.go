// Command ucc runs the UCC video platform: `ucc serve`, `ucc migrate`,
// `ucc users`, `ucc version`. It parses flags and configuration and wires the
// constructors together; the logic lives in internal/ and storage/.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/ucc-video/ucc/internal/config"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/i18n"
	"github.com/ucc-video/ucc/storage/postgres"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, e env) error
}

// env is what a command runs with: its standard streams and where its
// configuration comes from.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// config parses the configuration: config.Load (the process
	// environment) in main, a map of variables in tests.
	config func() (config.Config, error)
	// locale is the process's locale (LC_ALL, else LC_MESSAGES, else
	// LANG: "ko_KR.UTF-8"), which picks the language of the messages a
	// person reads; "" in tests.
	locale string
}

// say is the localizer of the messages a person reads from the command
// line: the language the locale names, if UCC speaks it, else
// UCC_DEFAULT_LANGUAGE (Korean by default).
func (e env) say() *i18n.Localizer {
	lang := strings.ToLower(e.locale)
	if i := strings.IndexAny(lang, "_.@-"); i >= 0 {
		lang = lang[:i]
	}
	if !i18n.Supported(lang) {
		lang = ""
		if cfg, err := e.config(); err == nil {
			lang = cfg.DefaultLanguage
		}
	}
	cat, err := i18n.Load(i18n.Options{Default: i18n.English})
	if err != nil {
		panic(err) // the embedded catalogs are checked by their tests
	}
	return cat.Localizer(lang)
}

// processLocale is LC_ALL, else LC_MESSAGES, else LANG.
func processLocale() string {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			return l
		}
	}
	return ""
}

func commands() []command {
	return []command{
		{"serve", "run the web server and background workers", runServe},
		{"migrate", "apply database migrations (up) or list them (status)", runMigrate},
		{"users", "manage accounts: create, set-role", runUsers},
		{"revenue", "revenue sharing: calculate, verify, report", runRevenue},
		{"version", "print the version", runVersion},
	}
}

// openDB loads the configuration and opens its database with at most
// maxConns connections (the operator commands' start).
func (e env) openDB(ctx context.Context, maxConns int32) (config.Config, *postgres.DB, error) {
	cfg, err := e.config()
	if err != nil {
		return cfg, nil, err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, maxConns)
	if err != nil {
		return cfg, nil, fmt.Errorf("UCC_DATABASE_URL: %w", err)
	}
	return cfg, db, nil
}

// usageError is printed with the command's usage and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args with the configuration of the process
// environment and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, env{stdin: stdin, stdout: stdout, stderr: stderr, config: config.Load, locale: processLocale()})
}

// runEnv runs the command line args in e and returns the exit code.
func runEnv(ctx context.Context, args []string, e env) int {
	stdout, stderr := e.stdout, e.stderr
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], e)
		var ue usageError
		var ce *config.Error
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "ucc %s: %s (see ucc %s --help)\n", c.name, ue.msg, c.name)
			return 2
		case errors.As(err, &ce):
			fmt.Fprintf(stderr, "ucc: %s\n", ce.Error())
			return 2
		default:
			var ee *errs.Error
			if errors.As(err, &ee) { // a domain error, in the reader's language
				fmt.Fprintf(stderr, "ucc %s: %s\n", c.name, oneLine(errors.New(e.say().Error(ee))))
				return 1
			}
			fmt.Fprintf(stderr, "ucc %s: %s\n", c.name, oneLine(err))
			return 1
		}
	}
	fmt.Fprintf(stderr, "ucc: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return 2
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "ucc — an open creator video platform\n\nUsage: ucc <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `ucc <command> --help` for a command's flags. Configuration comes from UCC_* environment variables:")
	specs := config.Specs()
	for _, s := range specs {
		def := s.Default
		if def == "" {
			def = "(unset)"
		}
		fmt.Fprintf(w, "  %-26s %s [default %s]\n", s.Name, s.Help, def)
	}
}

// newFlagSet returns a flag set whose --help prints usage to stdout.
func newFlagSet(name, usage string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("ucc "+name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: ucc %s\n\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func runVersion(_ context.Context, args []string, e env) error {
	fs := newFlagSet("version", "version", e.stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "ucc %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
