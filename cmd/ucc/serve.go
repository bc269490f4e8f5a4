package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/config"
	"github.com/ucc-video/ucc/internal/web"
	"github.com/ucc-video/ucc/storage/postgres"
	uccredis "github.com/ucc-video/ucc/storage/redis"
)

func runServe(ctx context.Context, args []string, e env) error {
	flags := newFlagSet("serve", "serve [--role web|worker|all]", e.stdout)
	role := flags.String("role", "all", "what this process runs: web (HTTP only), worker (background jobs only) or all")
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if *role != "web" && *role != "worker" && *role != "all" {
		return usageError{fmt.Sprintf("--role must be web, worker or all, got %q", *role)}
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return serve(ctx, cfg, *role, e.stderr)
}

// serve runs the web server (role web), the background workers and the
// view flusher (role worker), or both (all) with cfg, logging to logs,
// until ctx ends; then it shuts down gracefully within cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg config.Config, role string, logs io.Writer) error {
	if err := cfg.CheckServeSecret(); err != nil {
		return err
	}
	log := newLogger(cfg, logs)
	goredis.SetLogger(uccredis.SlogLogger{Log: log}) // go-redis logs through a global
	if cfg.SecretGenerated {
		log.Warn("UCC_DEV: UCC_SECRET_KEY is not set, using a random key for this process; play tokens and viewer cookies will not survive a restart or work across processes")
	}
	if cfg.MigrateOnStart {
		// As the owner of the tables, before the runtime role (which the
		// migrations create) connects.
		if err := migrateAsOwner(ctx, cfg, log); err != nil {
			return err
		}
	}
	app, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.close()
	if owner, err := app.db.OwnsTables(ctx); err == nil && owner {
		log.Warn("UCC_DATABASE_URL connects as a role that owns the tables or is a superuser: a bug or a stolen connection could disable the ledger's guards; use the runtime role ucc_app for serve and UCC_MIGRATE_DATABASE_URL for migrations (docs/security.md)")
	}
	go app.announcer.Listen(ctx, log, app.videos.Evict)
	runWorkers := role == "worker" || role == "all"
	if err := app.startJobs(ctx, cfg, runWorkers); err != nil {
		return err
	}
	if runWorkers {
		app.startViewFlusher(cfg)
		defer app.stopViewFlusher()
	}

	var srv, metrics *http.Server
	errc := make(chan error, 2)
	if role != "worker" {
		gin.SetMode(gin.ReleaseMode) // process-wide: no debug route listing on stdout
		handler, err := app.webServer(cfg)
		if err != nil {
			return err
		}
		srv = web.NewHTTPServer(cfg.HTTPAddr, handler, log)
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("UCC_HTTP_ADDR: cannot listen on %s: %w", cfg.HTTPAddr, err)
		}
		log.Info("UCC is listening", "addr", "http://"+ln.Addr().String(), "base_url", cfg.BaseURL, "role", role, "storage", cfg.Storage, "version", version)
		go func() { errc <- srv.Serve(ln) }()
		if cfg.MetricsAddr != "" {
			// Metrics on a listener of their own, for the monitoring network.
			mux := http.NewServeMux()
			mux.Handle("GET /metrics", handler.MetricsHandler())
			metrics = web.NewHTTPServer(cfg.MetricsAddr, mux, log)
			mln, err := net.Listen("tcp", cfg.MetricsAddr)
			if err != nil {
				_ = srv.Close()
				return fmt.Errorf("UCC_METRICS_ADDR: cannot listen on %s: %w", cfg.MetricsAddr, err)
			}
			log.Info("metrics are served", "addr", "http://"+mln.Addr().String()+"/metrics")
			go func() { errc <- metrics.Serve(mln) }()
		}
	} else {
		log.Info("UCC worker started", "role", role, "version", version)
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if srv != nil {
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("HTTP shutdown", "err", err)
		}
	}
	if metrics != nil {
		_ = metrics.Shutdown(sctx)
	}
	app.stopViewFlusher()
	app.stopJobs(sctx)
	log.Info("stopped")
	return nil
}

// migrateAsOwner applies pending migrations over UCC_MIGRATE_DATABASE_URL.
func migrateAsOwner(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	db, err := postgres.Open(ctx, cfg.MigrateDatabaseURL, 2)
	if err != nil {
		return fmt.Errorf("UCC_MIGRATE_DATABASE_URL: %w", err)
	}
	defer db.Close()
	return postgres.Migrate(ctx, db.Pool, log)
}
