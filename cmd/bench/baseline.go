package main

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
)

// baselineEnv names the variable that turns the bench binary into the
// baseline server: the bench re-executes itself with it set, so that the
// baseline runs as its own process, like ucc serve, rather than sharing the
// load generator's scheduler.
const baselineEnv = "UCC_BENCH_BASELINE_ADDR"

// staticPage is what the bare "static page" handler renders: a page of
// about 5 KiB (a header, 24 video cards, a footer) executed with
// html/template on every request, the engine UCC's pages use, but with no
// data: the cheapest a page can be answered.
var staticPage = template.Must(template.New("page").Parse(staticHTML()))

func staticHTML() string {
	var b strings.Builder
	b.WriteString(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>UCC</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/css/app.css"></head>
<body><header class="top"><a class="logo" href="/">UCC</a>
<form action="/search" method="get"><input type="search" name="q" placeholder="Search"></form>
<nav><a href="/upload">Upload</a> <a href="/studio">Studio</a> <a href="/login">Log in</a></nav></header>
<main><h1>Videos from independent creators</h1><div class="grid">
`)
	for i := range 24 {
		fmt.Fprintf(&b, `<article class="vcard"><a href="/watch/b%010x"><img src="/static/img/placeholder.svg" alt="" width="320" height="180">
<h3>How to cook pasta like a chef, part %d</h3></a><p class="muted">Channel %d · %d.%dK views · %d days ago</p></article>
`, i+1, i+1, i+1, i+1, i%10, i+2)
	}
	b.WriteString("</div></main>\n<footer class=\"muted\">UCC · static baseline page</footer></body></html>\n")
	return b.String()
}

// baselineHandler is the bare gin engine: no middleware at all.
//
//	/204   any method: read and drop the body, answer 204
//	POST /api/v1/videos/:id/views: the same
//	/page  GET: render staticPage
func baselineHandler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	noContent := func(c *gin.Context) {
		_, _ = io.Copy(io.Discard, c.Request.Body)
		c.Status(http.StatusNoContent)
	}
	e.Any("/204", noContent)
	// The view report's own route shape, so that routing costs the same.
	e.POST("/api/v1/videos/:id/views", noContent)
	e.GET("/page", func(c *gin.Context) {
		c.Status(http.StatusOK)
		c.Header("Content-Type", "text/html; charset=utf-8")
		if err := staticPage.Execute(c.Writer, nil); err != nil {
			_ = c.Error(err)
		}
	})
	e.GET("/healthz", func(c *gin.Context) { c.Status(http.StatusOK) })
	return e
}

// serveBaseline runs the baseline server on addr until SIGTERM or SIGINT.
func serveBaseline(addr string) int {
	srv := &http.Server{Addr: addr, Handler: baselineHandler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "baseline server:", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}
