package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	goredis "github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
	"github.com/ucc-video/ucc/internal/config"
	"github.com/ucc-video/ucc/internal/objects"
	"github.com/ucc-video/ucc/internal/revenue"
	"github.com/ucc-video/ucc/internal/uploads"
	"github.com/ucc-video/ucc/internal/videos"
	"github.com/ucc-video/ucc/internal/web"
	"github.com/ucc-video/ucc/static"
	"github.com/ucc-video/ucc/storage/fs"
	"github.com/ucc-video/ucc/storage/postgres"
	uccredis "github.com/ucc-video/ucc/storage/redis"
	"github.com/ucc-video/ucc/storage/s3"
	"github.com/ucc-video/ucc/templates"
)

// app holds the opened dependencies of a serve process.
type app struct {
	log      *slog.Logger
	db       *postgres.DB
	rdb      *goredis.Client
	store    objects.Store
	registry *prometheus.Registry
	river    *river.Client[pgx.Tx]
	accounts *accounts.Service
	videos   *videos.Service
	// community: lists, search, comments, likes, subscriptions.
	community *community.Service
	uploads   *uploads.Service
	views     *viewsParts
	revenue   *revenue.Service
	// announcer tells the other processes which videos were hidden.
	announcer *uccredis.Announcer
}

func openApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	a := &app{log: log, registry: prometheus.NewRegistry()}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var err error
	if a.db, err = postgres.Open(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns); err != nil {
		return nil, fmt.Errorf("UCC_DATABASE_URL: %w (is PostgreSQL running? on this machine: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)", err)
	}
	if a.rdb, err = uccredis.Open(ctx, cfg.RedisURL); err != nil {
		// Not fatal: the client reconnects by itself and /readyz names Redis
		// until it answers; pages keep working without it.
		log.Warn("Redis is not answering yet; continuing and retrying", "err", err)
		opt, perr := goredis.ParseURL(cfg.RedisURL)
		if perr != nil {
			a.close()
			return nil, fmt.Errorf("UCC_REDIS_URL: %w", perr)
		}
		a.rdb = goredis.NewClient(opt)
	}
	if a.store, err = openStore(ctx, cfg); err != nil {
		a.close()
		return nil, err
	}
	users := postgres.NewUsers(a.db)
	acfg := accounts.DefaultConfig()
	acfg.LoginLimit = cfg.LoginRateLimit
	acfg.HashConcurrency = cfg.LoginHashConcurrency
	acfg.SignupLimit = cfg.SignupRateLimit
	a.accounts = accounts.NewService(users, uccredis.NewLimiter(a.rdb, cfg.RedisPrefix, "login"), acfg, time.Now)
	a.views = openViews(ctx, cfg, a)
	a.announcer = uccredis.NewAnnouncer(a.rdb, cfg.RedisPrefix)
	if a.videos, err = videos.NewService(videos.Config{Store: postgres.NewVideos(a.db), Objects: a.store, Views: a.views.service,
		Log: log.With("component", "videos"), Now: time.Now, MediaURLTTL: cfg.MediaURLTTL, MaxUploadBytes: cfg.UploadMaxBytes,
		QuotaBytes: cfg.UploadQuotaBytes, TranscodeTimeout: cfg.TranscodeTimeout, Limits: videos.Limits{
			MaxPixels: cfg.TranscodeMaxPixels, MaxFrames: cfg.TranscodeMaxFrames, MaxDuration: cfg.TranscodeMaxDuration,
			MinBytesPerSecond: cfg.TranscodeMinBytesPerSecond, MaxStreams: cfg.TranscodeMaxStreams,
			MaxBitDepth: cfg.TranscodeMaxBitDepth, PerCreator: cfg.TranscodePerCreator, MinFreeBytes: cfg.TranscodeMinFree,
			ImageMaxDecodeBytes: cfg.ImageMaxDecodeBytes, ImageDecoders: cfg.ImageDecoders,
		}, Announcer: a.announcer}); err != nil {
		a.close()
		return nil, err
	}
	ccfg := community.DefaultConfig()
	// Searches and deep trending pages may hold a quarter of the pool.
	ccfg.HeavyQueries = max(1, int(cfg.DatabaseMaxConns)/4)
	a.community = community.NewService(postgres.NewCommunity(a.db).WithQueryTimeout(cfg.QueryTimeout), a.videos,
		uccredis.NewLimiter(a.rdb, cfg.RedisPrefix, "comment"), ccfg, time.Now)
	// A video made private or deleted leaves every in-process cache at once:
	// here directly, in the other processes through the announcer.
	a.videos.OnHidden(func(id int64, publicID string) {
		a.community.Evict(id)
		a.views.service.Evict(publicID)
	})
	if a.uploads, err = openUploads(cfg, log, a.db, a.store, a.videos); err != nil {
		a.close()
		return nil, err
	}
	a.revenue = revenue.NewService(postgres.NewRevenue(a.db), time.Now).CheckPending(a.views.service)
	return a, nil
}

func openStore(ctx context.Context, cfg config.Config) (objects.Store, error) {
	if cfg.Storage == "s3" {
		st, err := s3.New(ctx, s3.Config{Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, Bucket: cfg.S3.Bucket,
			AccessKey: cfg.S3.AccessKey, SecretKey: cfg.S3.SecretKey, UseSSL: cfg.S3.UseSSL, PathStyle: cfg.S3.PathStyle})
		if err != nil {
			return nil, fmt.Errorf("UCC_S3_ENDPOINT: %w", err)
		}
		return st, nil
	}
	st, err := fs.New(cfg.StorageDir)
	if err != nil {
		return nil, fmt.Errorf("UCC_STORAGE_DIR: %w", err)
	}
	return st, nil
}

// startJobs creates the River client: with workers and periodic jobs when
// this process runs them, insert-only otherwise.
func (a *app) startJobs(ctx context.Context, cfg config.Config, runWorkers bool) error {
	rcfg := &river.Config{Logger: a.log.With("component", "river")}
	if runWorkers {
		workers := river.NewWorkers()
		river.AddWorker(workers, &accounts.CleanupWorker{Service: a.accounts})
		river.AddWorker(workers, videos.NewTranscodeWorker(a.videos))
		river.AddWorker(workers, &videos.SweepWorker{Service: a.videos})
		river.AddWorker(workers, &revenue.CalculateWorker{Service: a.revenue})
		rcfg.Workers = workers
		rcfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		rcfg.PeriodicJobs = []*river.PeriodicJob{accounts.CleanupPeriodicJob()}
		// Transcoding runs on its own queue so long encodes never hold up short jobs.
		rcfg.Queues[videos.TranscodeQueue] = river.QueueConfig{MaxWorkers: cfg.Workers}
		rcfg.PeriodicJobs = append(rcfg.PeriodicJobs, videos.SweepPeriodicJob())
		// A job still "running" this long after it started belongs to a dead
		// worker: River puts it back to be retried. It must outlast the longest
		// legitimate transcode (config checks UCC_JOB_RESCUE_AFTER does).
		rcfg.RescueStuckJobsAfter = cfg.JobRescueAfter
		// River refuses a rescue delay below the default job timeout (1m);
		// a shorter one bounds jobs without a timeout of their own too.
		rcfg.JobTimeout = min(river.JobTimeoutDefault, cfg.JobRescueAfter)
		// River's reindexer rebuilds its indexes, which only their owner
		// may do; serve runs as the runtime role (migration 00012).
		rcfg.ReindexerIndexNames = []string{}
		river.AddWorker(workers, &uploads.ExpireWorker{Service: a.uploads})
		rcfg.PeriodicJobs = append(rcfg.PeriodicJobs, uploads.ExpirePeriodicJob())
	}
	c, err := river.NewClient(riverpgxv5.New(a.db.Pool), rcfg)
	if err != nil {
		return fmt.Errorf("jobs: %w", err)
	}
	a.river = c
	if runWorkers {
		// Jobs of a killed worker left their working directories behind.
		if n, err := a.videos.RemoveStaleWorkDirs(); err != nil {
			a.log.Warn("could not remove working directories of dead transcoding jobs", "err", err)
		} else if n > 0 {
			a.log.Info("removed working directories of dead transcoding jobs", "count", n)
		}
		if err := c.Start(ctx); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
	}
	return nil
}

// stopJobs lets running jobs finish within ctx, then cancels them; River
// puts a cancelled job back to be retried, so none is lost.
func (a *app) stopJobs(ctx context.Context) {
	if a.river == nil {
		return
	}
	if err := a.river.Stop(ctx); err != nil {
		a.log.Warn("jobs did not finish in time; cancelling them", "err", err)
		_ = a.river.StopAndCancel(context.Background())
	}
}

func (a *app) webServer(cfg config.Config) (*web.Server, error) {
	var media []string
	if cfg.Storage == "s3" {
		scheme := "http://"
		if cfg.S3.UseSSL {
			scheme = "https://"
		}
		media = append(media, scheme+cfg.S3.Endpoint)
	}
	return web.New(web.Config{
		BaseURL: cfg.BaseURL, SecretKey: cfg.SecretKey, CookieSecure: cfg.CookieSecure,
		TrustedProxies: cfg.TrustedProxies, MediaOrigins: media, Version: version, Language: cfg.DefaultLanguage,
		SearchRateLimit: cfg.SearchRateLimit, ListRateLimit: cfg.ListRateLimit, MetricsToken: cfg.MetricsToken,
	}, web.Deps{
		Log:       a.log,
		Now:       time.Now,
		Accounts:  a.accounts,
		Videos:    a.videos,
		Community: a.community,
		Uploads:   a.uploads,
		Views:     a.views.service,
		Registry:  a.registry,
		Templates: templates.FS,
		Static:    static.FS,
		Revenue:   a.revenue,
		Requests:  uccredis.NewRequestLimiter(a.rdb, cfg.RedisPrefix, "web", time.Now),
		ReadyChecks: []web.ReadyCheck{
			{Name: "postgres", Check: a.db.Ping},
			{Name: "redis", Check: func(ctx context.Context) error { return a.rdb.Ping(ctx).Err() }},
			{Name: "storage", Check: a.store.Ping},
		},
	})
}

func (a *app) close() {
	if a.rdb != nil {
		a.rdb.Close()
	}
	if a.db != nil {
		a.db.Close()
	}
}
