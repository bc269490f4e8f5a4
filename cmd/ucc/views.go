package main

import (
	"context"
	"time"

	"github.com/ucc-video/ucc/internal/config"
	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/storage/postgres"
	uccredis "github.com/ucc-video/ucc/storage/redis"
)

// viewsParts is the wired view counter: the service the web layer calls and
// the flusher the worker role runs.
type viewsParts struct {
	service *views.Service
	flusher *views.Flusher
	stop    context.CancelFunc
	done    chan struct{}
}

func openViews(ctx context.Context, cfg config.Config, a *app) *viewsParts {
	counter := uccredis.NewViewCounter(a.rdb, cfg.RedisPrefix, time.Second)
	if err := counter.Load(ctx); err != nil {
		a.log.Warn("view scripts not loaded yet (Redis down?); they load on first use", "err", err)
	}
	store := postgres.NewViews(a.db)
	m := views.NewMetrics(a.registry)
	return &viewsParts{
		service: views.NewService(views.Config{Secret: cfg.SecretKey, MinWatch: cfg.ViewMinWatch,
			DedupWindow: cfg.ViewDedupWindow, IPHourlyCap: cfg.ViewIPHourlyCap,
			VideoHourlyCap: cfg.ViewVideoHourlyCap, CreatorHourlyCap: cfg.ViewCreatorHourlyCap,
			MintHourlyCap: cfg.ViewMintHourlyCap, CreatorNetworkTTL: cfg.ViewCreatorNetworkTTL, FlushEvery: cfg.ViewFlushEvery}, store, counter, store, m, time.Now),
		flusher: views.NewFlusher(counter, store, m, a.log.With("component", "views"), cfg.ViewFlushEvery, time.Now),
	}
}

// startViewFlusher runs the view flusher until stopViewFlusher.
func (a *app) startViewFlusher(cfg config.Config) {
	ctx, cancel := context.WithCancel(context.Background())
	a.views.stop, a.views.done = cancel, make(chan struct{})
	go func() {
		defer close(a.views.done)
		a.views.flusher.Run(ctx, cfg.ShutdownTimeout)
	}()
}

// stopViewFlusher stops the flusher after a final flush.
func (a *app) stopViewFlusher() {
	if a.views == nil || a.views.stop == nil {
		return
	}
	a.views.stop()
	<-a.views.done
}
