package main

import (
	"context"
	"fmt"

	"github.com/ucc-video/ucc/storage/postgres"
)

func runMigrate(ctx context.Context, args []string, e env) error {
	stdout := e.stdout
	fs := newFlagSet("migrate", "migrate up [--create-db] | migrate status", stdout)
	createDB := fs.Bool("create-db", false, "create the database named in UCC_MIGRATE_DATABASE_URL when it does not exist")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	action := "up"
	if fs.NArg() > 0 {
		action = fs.Arg(0)
		if err := parseFlags(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	if action != "up" && action != "status" {
		return usageError{fmt.Sprintf("unknown action %q: use up or status", action)}
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	log := newLogger(cfg, e.stderr)
	if *createDB {
		created, err := postgres.CreateDatabaseIfMissing(ctx, cfg.MigrateDatabaseURL)
		if err != nil {
			return fmt.Errorf("UCC_MIGRATE_DATABASE_URL: %w", err)
		}
		if created {
			fmt.Fprintln(stdout, "created the database")
		}
	}
	// Migrations run as the owner of the tables; serve runs as ucc_app.
	db, err := postgres.Open(ctx, cfg.MigrateDatabaseURL, 4)
	if err != nil {
		return fmt.Errorf("UCC_MIGRATE_DATABASE_URL: %w", err)
	}
	defer db.Close()
	if action == "status" {
		st, err := postgres.Status(ctx, db.Pool)
		if err != nil {
			return err
		}
		for _, m := range st {
			state := "pending"
			if m.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%-6s %5d  %-8s %s\n", m.Source, m.Version, state, m.Name)
		}
		return nil
	}
	if err := postgres.Migrate(ctx, db.Pool, log); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "database is up to date")
	return nil
}
