package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ucc-video/ucc/internal/views"
	"github.com/ucc-video/ucc/storage/postgres"
	uccredis "github.com/ucc-video/ucc/storage/redis"
)

// browserUA is the User-Agent of every bench request: the view counter
// ignores HTTP libraries (Go's default User-Agent) as bots.
const browserUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// signer signs play tokens and viewer ids with ucc serve's secret, so that
// the bench can hand out what GET /play would without measuring it.
func (b *bench) signer() *views.Signer { return views.NewSigner([]byte(b.secret)) }

// flusher returns the view flusher and counter wired as cmd/ucc wires them,
// on the bench's pool and Redis client.
func (b *bench) flusher() *views.Flusher {
	db := &postgres.DB{Pool: b.db.Pool}
	counter := uccredis.NewViewCounter(b.rdb, b.prefix, 30*time.Second)
	store := postgres.NewViews(db)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	return views.NewFlusher(counter, store, nil, quiet, time.Hour, time.Now)
}

// pendingKey is the pending hash, as storage/redis/views.go names it.
func pendingKey(prefix string) string { return uccredis.Keys{Prefix: prefix}.Key("views", "pending") }

// fillPending writes n pending views spread evenly over ids into the
// pending hash in the counter's format ("<id>" and "<id>:<yyyymmdd>" fields,
// "_since"), 5,000 videos per HSET. The hash must be empty (just flushed).
func fillPending(ctx context.Context, rdb *goredis.Client, prefix string, ids []int64, n int, now time.Time) error {
	key := pendingKey(prefix)
	day := now.UTC().Format("20060102")
	per, extra := n/len(ids), n%len(ids)
	const batch = 5000
	for start := 0; start < len(ids); start += batch {
		var fields []any
		for i := start; i < min(start+batch, len(ids)); i++ {
			c := per
			if i < extra {
				c++
			}
			if c == 0 {
				continue
			}
			id := strconv.FormatInt(ids[i], 10)
			fields = append(fields, id, c, id+":"+day, c)
		}
		if len(fields) == 0 {
			continue
		}
		if err := rdb.HSet(ctx, key, fields...).Err(); err != nil {
			return fmt.Errorf("fill pending views: %w", err)
		}
	}
	return rdb.HSetNX(ctx, key, "_since", now.UnixMilli()).Err()
}

// pendingViews sums the per-video fields of the pending hash.
func pendingViews(ctx context.Context, rdb *goredis.Client, prefix string) (int64, error) {
	m, err := rdb.HGetAll(ctx, pendingKey(prefix)).Result()
	if err != nil {
		return 0, err
	}
	var sum int64
	for k, v := range m {
		if strings.Contains(k, ":") || strings.HasPrefix(k, "_") {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		sum += n
	}
	return sum, nil
}

// viewRow measures POST /api/v1/videos/{id}/views: every request a new
// anonymous viewer (signed id in X-UCC-Viewer) with a play token issued a
// minute earlier, over 1,000 videos; the baseline answers 204 to the same
// requests.
func (b *bench) viewRow(ctx context.Context) (row, error) {
	sig := b.signer()
	nv := min(1000, len(b.cat.PublicIDs))
	issued := time.Now().Add(-time.Minute)
	var sent atomic.Int64
	mk := func(base string) requestFunc {
		return func(w, seq int) (*http.Request, error) {
			i := (w*7919 + seq) % nv
			signed := sig.NewAnonymousID()
			tok := sig.Issue(b.cat.FirstVideo+int64(i), "a:"+sig.VerifyAnonymousID(signed), issued)
			req, err := http.NewRequest(http.MethodPost, base+"/api/v1/videos/"+b.cat.PublicIDs[i]+"/views",
				bytes.NewReader([]byte(`{"play_token":"`+tok+`"}`)))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-UCC-Viewer", signed)
			req.Header.Set("User-Agent", browserUA)
			return req, nil
		}
	}
	// One report by hand: it must be counted.
	c := newClient(1)
	req, _ := mk(b.uccURL)(0, 0)
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		return row{}, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound && bytes.Contains(body, []byte("there is nothing at this address")) {
		return row{}, notAvailable("POST /api/v1/videos/{id}/views is not routed in this build (the view-counting feature has not landed)")
	}
	var res struct {
		Counted bool   `json:"counted"`
		Reason  string `json:"reason"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &res) != nil || !res.Counted {
		return row{}, fmt.Errorf("a valid report was not counted: HTTP %d %s", resp.StatusCode, oneLine(body, 200))
	}
	before, err := pendingViews(ctx, b.rdb, b.prefix)
	if err != nil {
		return row{}, err
	}
	uccReq := mk(b.uccURL)
	counting := func(w, seq int) (*http.Request, error) {
		sent.Add(1)
		return uccReq(w, seq)
	}
	figs, notes, err := b.httpCompare(ctx, b.opts.Conns, counting, http.StatusOK, mk(b.baseURL), http.StatusNoContent)
	if err != nil {
		return row{}, err
	}
	after, err := pendingViews(ctx, b.rdb, b.prefix)
	if err != nil {
		return row{}, err
	}
	// Every answered report of a distinct viewer must have been counted
	// (requests cut off at the end of a run may not have been answered).
	if got := after - before; got > sent.Load() || got < sent.Load()-int64(b.opts.Conns)*int64(b.opts.Size.Runs+1) {
		return row{}, fmt.Errorf("pending views grew by %d for %d reports sent", got, sent.Load())
	}
	notes = append([]string{fmt.Sprintf("every report a new anonymous viewer with a valid play token, over %d videos; %d reports counted (checked in the Redis pending hash)", nv, after-before)}, notes...)
	return row{Figures: figs, Notes: notes}, nil
}
