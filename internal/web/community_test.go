package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/community"
)

type commentJSON struct {
	Comment community.Comment `json:"comment"`
}

func errCode(t *testing.T, r response) string {
	t.Helper()
	var e apiError
	r.JSON(t, &e)
	if e.Error.Message == "" {
		t.Fatalf("error without message: %s", r.Body)
	}
	return e.Error.Code
}

func TestCommentsPostReplyEditDelete(t *testing.T) {
	ts := newTestServer(t)
	creatorTok, _, _, vid, pub := ts.creatorWithVideo("creator@example.com", "maker")
	annTok, annID := ts.user("ann@example.com", accounts.RoleViewer)
	bobTok, _ := ts.user("bob@example.com", accounts.RoleViewer)
	otherCreatorTok, _, _, _, _ := ts.creatorWithVideo("other@example.com", "other")

	path := "/api/v1/videos/" + pub + "/comments"
	r := ts.do("POST", path, map[string]any{"body": "  first!  "}, bearer(annTok)...)
	wantStatus(t, r, http.StatusCreated)
	var top commentJSON
	r.JSON(t, &top)
	if top.Comment.Body != "first!" || top.Comment.Author.ID != annID || top.Comment.ParentID != nil || top.Comment.VideoPubID != pub {
		t.Fatalf("posted comment = %+v", top.Comment)
	}
	r = ts.do("POST", path, map[string]any{"body": "a reply", "parent_id": top.Comment.ID}, bearer(bobTok)...)
	wantStatus(t, r, http.StatusCreated)
	var reply commentJSON
	r.JSON(t, &reply)
	// A reply to a reply attaches to the top-level comment.
	r = ts.do("POST", path, map[string]any{"body": "reply to reply", "parent_id": reply.Comment.ID}, bearer(annTok)...)
	wantStatus(t, r, http.StatusCreated)
	var reply2 commentJSON
	r.JSON(t, &reply2)
	if reply2.Comment.ParentID == nil || *reply2.Comment.ParentID != top.Comment.ID {
		t.Fatalf("reply to a reply has parent %v, want %d", reply2.Comment.ParentID, top.Comment.ID)
	}
	if _, _, n := ts.counters(vid); n != 3 {
		t.Fatalf("comment_count = %d, want 3", n)
	}
	wantStatus(t, ts.do("POST", path, map[string]any{"body": "x", "parent_id": 999999}, bearer(annTok)...), http.StatusNotFound)

	var page community.CommentPage
	r = ts.do("GET", path, nil)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &page)
	if len(page.Comments) != 1 || page.Comments[0].ReplyCount != 2 || len(page.Comments[0].Replies) != 2 ||
		page.Comments[0].Replies[0].Body != "a reply" || page.Comments[0].Replies[1].Body != "reply to reply" {
		t.Fatalf("comments page = %+v", page)
	}

	// Editing: only the author.
	cpath := fmt.Sprintf("/api/v1/comments/%d", top.Comment.ID)
	r = ts.do("PATCH", cpath, map[string]any{"body": "hacked"}, bearer(bobTok)...)
	wantStatus(t, r, http.StatusForbidden)
	if errCode(t, r) != "not_your_comment" {
		t.Fatalf("body %s", r.Body)
	}
	wantStatus(t, ts.do("PATCH", cpath, map[string]any{"body": "hacked"}, bearer(creatorTok)...), http.StatusForbidden)
	wantStatus(t, ts.do("PATCH", cpath, map[string]any{"body": "x"}), http.StatusUnauthorized)
	r = ts.do("PATCH", cpath, map[string]any{"body": "first, edited"}, bearer(annTok)...)
	wantStatus(t, r, http.StatusOK)
	var edited commentJSON
	r.JSON(t, &edited)
	if edited.Comment.Body != "first, edited" || edited.Comment.EditedAt == nil {
		t.Fatalf("edited = %+v", edited.Comment)
	}

	// Deleting: not someone else's, not by another video's creator.
	wantStatus(t, ts.do("DELETE", cpath, nil, bearer(bobTok)...), http.StatusForbidden)
	wantStatus(t, ts.do("DELETE", cpath, nil, bearer(otherCreatorTok)...), http.StatusForbidden)
	// The author deletes a top-level comment with replies: a placeholder stays.
	wantStatus(t, ts.do("DELETE", cpath, nil, bearer(annTok)...), http.StatusNoContent)
	wantStatus(t, ts.do("DELETE", cpath, nil, bearer(annTok)...), http.StatusNotFound)
	wantStatus(t, ts.do("PATCH", cpath, map[string]any{"body": "back"}, bearer(annTok)...), http.StatusNotFound)
	r = ts.do("GET", path, nil)
	r.JSON(t, &page)
	if len(page.Comments) != 1 || !page.Comments[0].Deleted || page.Comments[0].Body != "" || len(page.Comments[0].Replies) != 2 {
		t.Fatalf("after delete: %+v", page.Comments)
	}
	if _, _, n := ts.counters(vid); n != 2 {
		t.Fatalf("comment_count = %d, want 2", n)
	}
	// Replying to a deleted comment is refused.
	wantStatus(t, ts.do("POST", path, map[string]any{"body": "late", "parent_id": top.Comment.ID}, bearer(bobTok)...), http.StatusNotFound)

	// The video's creator removes Bob's reply; Ann removes her own; the
	// placeholder goes with the last reply.
	wantStatus(t, ts.do("DELETE", fmt.Sprintf("/api/v1/comments/%d", reply.Comment.ID), nil, bearer(creatorTok)...), http.StatusNoContent)
	wantStatus(t, ts.do("DELETE", fmt.Sprintf("/api/v1/comments/%d", reply2.Comment.ID), nil, bearer(annTok)...), http.StatusNoContent)
	r = ts.do("GET", path, nil)
	r.JSON(t, &page)
	if len(page.Comments) != 0 {
		t.Fatalf("after deleting everything: %+v", page.Comments)
	}
	var rows int
	if err := ts.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM comments`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("comment rows left: %d (%v)", rows, err)
	}
	if _, _, n := ts.counters(vid); n != 0 {
		t.Fatalf("comment_count = %d, want 0", n)
	}
}

func TestCommentRules(t *testing.T) {
	ts := newTestServer(t)
	creatorTok, _, _, _, pub := ts.creatorWithVideo("creator@example.com", "maker")
	annTok, _ := ts.user("ann@example.com", accounts.RoleViewer)
	path := "/api/v1/videos/" + pub + "/comments"

	r := ts.do("POST", path, map[string]any{"body": strings.Repeat("é", community.MaxCommentRunes+1)}, bearer(annTok)...)
	wantStatus(t, r, http.StatusBadRequest)
	if errCode(t, r) != "comment_too_long" || !strings.Contains(string(r.Body), "10,000") {
		t.Fatalf("too long: %s", r.Body)
	}
	wantStatus(t, ts.do("POST", path, map[string]any{"body": strings.Repeat("é", community.MaxCommentRunes)}, bearer(annTok)...), http.StatusCreated)
	r = ts.do("POST", path, map[string]any{"body": "   "}, bearer(annTok)...)
	wantStatus(t, r, http.StatusBadRequest)
	if errCode(t, r) != "comment_empty" {
		t.Fatalf("empty: %s", r.Body)
	}
	wantStatus(t, ts.do("POST", path, map[string]any{"text": "wrong field"}, bearer(annTok)...), http.StatusBadRequest)
	wantStatus(t, ts.do("POST", path, map[string]any{"body": "anon"}), http.StatusUnauthorized)
	wantStatus(t, ts.do("POST", "/api/v1/videos/nosuchvideo/comments", map[string]any{"body": "x"}, bearer(annTok)...), http.StatusNotFound)

	// Only the creator turns comments off; then posting is refused with a clear message.
	spath := "/api/v1/videos/" + pub + "/comment-settings"
	wantStatus(t, ts.do("PUT", spath, map[string]any{"enabled": false}, bearer(annTok)...), http.StatusForbidden)
	wantStatus(t, ts.do("PUT", spath, map[string]any{"enabled": false}, bearer(creatorTok)...), http.StatusOK)
	r = ts.do("POST", path, map[string]any{"body": "hello"}, bearer(annTok)...)
	wantStatus(t, r, http.StatusForbidden)
	if errCode(t, r) != "comments_disabled" || !strings.Contains(string(r.Body), "turned off") {
		t.Fatalf("comments off: %s", r.Body)
	}
	wantStatus(t, ts.do("PUT", spath, map[string]any{"enabled": true}, bearer(creatorTok)...), http.StatusOK)
	wantStatus(t, ts.do("POST", path, map[string]any{"body": "hello"}, bearer(annTok)...), http.StatusCreated)
}

func TestCommentRateLimit(t *testing.T) {
	ts := newTestServer(t, withCommunity(community.Config{CommentLimit: 3, CommentWindow: time.Minute}))
	_, _, _, _, pub := ts.creatorWithVideo("creator@example.com", "maker")
	annTok, _ := ts.user("ann@example.com", accounts.RoleViewer)
	bobTok, _ := ts.user("bob@example.com", accounts.RoleViewer)
	path := "/api/v1/videos/" + pub + "/comments"
	for i := 0; i < 3; i++ {
		wantStatus(t, ts.do("POST", path, map[string]any{"body": fmt.Sprint("c", i)}, bearer(annTok)...), http.StatusCreated)
	}
	r := ts.do("POST", path, map[string]any{"body": "one too many"}, bearer(annTok)...)
	wantStatus(t, r, http.StatusTooManyRequests)
	if errCode(t, r) != "comment_rate_limited" {
		t.Fatalf("%s", r.Body)
	}
	// The limit is per user.
	wantStatus(t, ts.do("POST", path, map[string]any{"body": "bob"}, bearer(bobTok)...), http.StatusCreated)
}

func TestCommentPaginationAndSort(t *testing.T) {
	ts := newTestServer(t)
	_, _, _, vid, pub := ts.creatorWithVideo("creator@example.com", "maker")
	_, annID := ts.user("ann@example.com", accounts.RoleViewer)
	ctx := context.Background()
	// 45 top-level comments; comment 10 gets 5 replies, comment 20 gets 2.
	if _, err := ts.db.Pool.Exec(ctx, `INSERT INTO comments (video_id, user_id, body)
		SELECT $1, $2, 'comment ' || g FROM generate_series(1, 45) g ORDER BY g`, vid, annID); err != nil {
		t.Fatal(err)
	}
	var c10, c20 int64
	ts.db.Pool.QueryRow(ctx, `SELECT id FROM comments WHERE body = 'comment 10'`).Scan(&c10)
	ts.db.Pool.QueryRow(ctx, `SELECT id FROM comments WHERE body = 'comment 20'`).Scan(&c20)
	annTok, _ := ts.user("bob@example.com", accounts.RoleViewer)
	for i := 0; i < 5; i++ {
		wantStatus(t, ts.do("POST", "/api/v1/videos/"+pub+"/comments", map[string]any{"body": fmt.Sprint("r", i), "parent_id": c10}, bearer(annTok)...), http.StatusCreated)
	}
	for i := 0; i < 2; i++ {
		wantStatus(t, ts.do("POST", "/api/v1/videos/"+pub+"/comments", map[string]any{"body": fmt.Sprint("s", i), "parent_id": c20}, bearer(annTok)...), http.StatusCreated)
	}

	for _, sort := range []string{"newest", "top"} {
		seen := map[int64]bool{}
		var order []string
		cursor := ""
		pages := 0
		for {
			r := ts.do("GET", "/api/v1/videos/"+pub+"/comments?limit=20&sort="+sort+"&cursor="+url.QueryEscape(cursor), nil)
			wantStatus(t, r, http.StatusOK)
			var p community.CommentPage
			r.JSON(t, &p)
			pages++
			for _, c := range p.Comments {
				if seen[c.ID] {
					t.Fatalf("%s: comment %d twice", sort, c.ID)
				}
				seen[c.ID] = true
				order = append(order, c.Body)
				if c.ID == c10 && (len(c.Replies) != community.RepliesPreview || c.ReplyCount != 5 || c.Replies[0].Body != "r0") {
					t.Fatalf("replies preview of comment 10: %+v", c)
				}
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		if len(seen) != 45 || pages != 3 {
			t.Fatalf("%s: %d comments over %d pages", sort, len(seen), pages)
		}
		switch sort {
		case "newest":
			if order[0] != "comment 45" || order[44] != "comment 1" {
				t.Fatalf("newest order: %v", order)
			}
		case "top":
			if order[0] != "comment 10" || order[1] != "comment 20" || order[2] != "comment 45" {
				t.Fatalf("top order starts %v", order[:3])
			}
		}
	}
	// All replies, paged.
	r := ts.do("GET", fmt.Sprintf("/api/v1/comments/%d/replies?limit=2", c10), nil)
	wantStatus(t, r, http.StatusOK)
	var rp community.CommentPage
	r.JSON(t, &rp)
	if len(rp.Comments) != 2 || rp.Next == "" || rp.Comments[0].Body != "r0" {
		t.Fatalf("replies page: %+v", rp)
	}
	r = ts.do("GET", fmt.Sprintf("/api/v1/comments/%d/replies?limit=5&cursor=%s", c10, rp.Next), nil)
	r.JSON(t, &rp)
	if len(rp.Comments) != 3 || rp.Next != "" || rp.Comments[0].Body != "r2" {
		t.Fatalf("replies page 2: %+v", rp)
	}
	wantStatus(t, ts.do("GET", "/api/v1/videos/"+pub+"/comments?cursor=garbage!", nil), http.StatusBadRequest)
	wantStatus(t, ts.do("GET", "/api/v1/videos/"+pub+"/comments?sort=best", nil), http.StatusBadRequest)
}

func TestScriptIsShownAsText(t *testing.T) {
	ts := newTestServer(t)
	tok, uid := ts.user("creator@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(uid, "xss", `<script>alert("chan")</script>`, `<img src=x onerror=alert(1)>`)
	_, pub := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: `<script>alert("title")</script>`,
		Description: "see https://example.com/a?b=1&c=<x> and javascript:alert(1) and <script>alert('desc')</script> and http://ok.example/path).",
		Renditions:  []int{360, 720}})
	wantStatus(t, ts.do("POST", "/api/v1/videos/"+pub+"/comments", map[string]any{"body": `<script>alert("comment")</script> <b>bold</b> javascript:alert(2)`}, bearer(tok)...), http.StatusCreated)

	for _, path := range []string{"/watch/" + pub, "/c/xss", "/", "/search?q=alert"} {
		r := ts.do("GET", path, nil)
		wantStatus(t, r, http.StatusOK)
		body := string(r.Body)
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>bold") || strings.Contains(body, "<img src=x") {
			t.Fatalf("%s: user markup rendered as HTML:\n%s", path, body)
		}
		if strings.Contains(body, `href="javascript:`) {
			t.Fatalf("%s: javascript: link made clickable", path)
		}
	}
	body := string(ts.do("GET", "/watch/"+pub, nil).Body)
	for _, want := range []string{
		`&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;`,
		`&lt;script&gt;alert(&#34;comment&#34;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;`,
		`&lt;script&gt;alert(&#39;desc&#39;)&lt;/script&gt;`,
		`<a href="https://example.com/a?b=1&amp;c=" rel="nofollow ugc noopener" target="_blank">https://example.com/a?b=1&amp;c=</a>&lt;x&gt;`,
		`<a href="http://ok.example/path" rel="nofollow ugc noopener" target="_blank">http://ok.example/path</a>).`,
		`javascript:alert(1)`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("watch page lacks %s", want)
		}
	}
}

func TestLinkify(t *testing.T) {
	cases := []struct {
		in   string
		want []textPart
	}{
		{"no links", []textPart{{Text: "no links"}}},
		{"go https://a.example/x.", []textPart{{Text: "go "}, {Text: "https://a.example/x", URL: "https://a.example/x"}, {Text: "."}}},
		{"(see http://a.example/b_(c))", []textPart{{Text: "(see "}, {Text: "http://a.example/b_(c)", URL: "http://a.example/b_(c)"}, {Text: ")"}}},
		{"javascript:alert(1) data:text/html,x ftp://a.example", []textPart{{Text: "javascript:alert(1) data:text/html,x ftp://a.example"}}},
		{"http:// nothing", []textPart{{Text: "http:// nothing"}}},
	}
	for _, c := range cases {
		got := linkify(c.in)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("linkify(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestLikes(t *testing.T) {
	ts := newTestServer(t)
	_, _, _, vid, pub := ts.creatorWithVideo("creator@example.com", "maker")
	annTok, _ := ts.user("ann@example.com", accounts.RoleViewer)
	bobTok, _ := ts.user("bob@example.com", accounts.RoleViewer)
	path := "/api/v1/videos/" + pub + "/like"
	steps := []struct {
		tok, value  string
		likes, dis  int64
		wantedValue string
	}{
		{annTok, "like", 1, 0, "like"},
		{annTok, "like", 1, 0, "like"}, // idempotent
		{bobTok, "like", 2, 0, "like"},
		{annTok, "dislike", 1, 1, "dislike"},
		{annTok, "none", 1, 0, "none"},
		{annTok, "none", 1, 0, "none"},
		{bobTok, "dislike", 0, 1, "dislike"},
	}
	for i, s := range steps {
		r := ts.do("PUT", path, map[string]string{"value": s.value}, bearer(s.tok)...)
		wantStatus(t, r, http.StatusOK)
		var st community.ReactionState
		r.JSON(t, &st)
		if st.Likes != s.likes || st.Dislikes != s.dis || st.Value != s.wantedValue {
			t.Fatalf("step %d: %+v, want %d/%d %s", i, st, s.likes, s.dis, s.wantedValue)
		}
		if l, d, _ := ts.counters(vid); l != s.likes || d != s.dis {
			t.Fatalf("step %d: stored %d/%d", i, l, d)
		}
	}
	r := ts.do("PUT", path, map[string]string{"value": "love"}, bearer(annTok)...)
	wantStatus(t, r, http.StatusBadRequest)
	if errCode(t, r) != "invalid_reaction" {
		t.Fatal(string(r.Body))
	}
	wantStatus(t, ts.do("PUT", path, map[string]string{"value": "like"}), http.StatusUnauthorized)
	wantStatus(t, ts.do("PUT", "/api/v1/videos/nosuchvideo/like", map[string]string{"value": "like"}, bearer(annTok)...), http.StatusNotFound)

	// Concurrent toggles by many users keep the counters exact.
	var toks []string
	for i := 0; i < 12; i++ {
		tok, _ := ts.user(fmt.Sprintf("u%d@example.com", i), accounts.RoleViewer)
		toks = append(toks, tok)
	}
	var wg sync.WaitGroup
	for i, tok := range toks {
		wg.Add(1)
		go func(i int, tok string) {
			defer wg.Done()
			for _, v := range []string{"like", "dislike", "like", "none", "like"} {
				ts.do("PUT", path, map[string]string{"value": v}, bearer(tok)...)
			}
		}(i, tok)
	}
	wg.Wait()
	if l, d, _ := ts.counters(vid); l != 12 || d != 1 {
		t.Fatalf("after concurrent likes: %d/%d, want 12/1", l, d)
	}

	// The liked list: Ann likes it again, it shows up for her only.
	wantStatus(t, ts.do("PUT", path, map[string]string{"value": "like"}, bearer(annTok)...), http.StatusOK)
	var lp community.VideoPage
	r = ts.do("GET", "/api/v1/me/liked", nil, bearer(annTok)...)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &lp)
	if len(lp.Videos) != 1 || lp.Videos[0].PublicID != pub {
		t.Fatalf("liked = %+v", lp)
	}
	r = ts.do("GET", "/api/v1/me/liked", nil, bearer(bobTok)...)
	r.JSON(t, &lp)
	if len(lp.Videos) != 0 {
		t.Fatalf("bob's liked = %+v", lp)
	}
	wantStatus(t, ts.do("GET", "/api/v1/me/liked", nil), http.StatusUnauthorized)
	page := ts.do("GET", "/liked", nil, bearer(annTok)...)
	wantStatus(t, page, http.StatusOK)
	if !strings.Contains(string(page.Body), "/watch/"+pub) {
		t.Fatal("liked page lacks the video")
	}
}

func TestSubscriptionsAndFeed(t *testing.T) {
	ts := newTestServer(t)
	creatorTok, creatorID := ts.user("creator@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(creatorID, "maker", "Maker", "")
	otherCh := ts.seedChannel(ts.mustUserID("other@example.com"), "other", "Other", "")
	_, pub1 := ts.seedVideo(seedVideo{Channel: ch, Creator: creatorID, Title: "older", Published: time.Now().Add(-2 * time.Hour)})
	_, pub2 := ts.seedVideo(seedVideo{Channel: ch, Creator: creatorID, Title: "newer", Published: time.Now().Add(-time.Hour)})
	ts.seedVideo(seedVideo{Channel: ch, Creator: creatorID, Title: "secret", Visibility: "private"})
	ts.seedVideo(seedVideo{Channel: ch, Creator: creatorID, Title: "link only", Visibility: "unlisted"})
	ts.seedVideo(seedVideo{Channel: ch, Creator: creatorID, Title: "processing", Status: "processing"})
	ts.seedVideo(seedVideo{Channel: otherCh, Creator: creatorID, Title: "not followed"})
	annTok, _ := ts.user("ann@example.com", accounts.RoleViewer)
	bobTok, _ := ts.user("bob@example.com", accounts.RoleViewer)

	sub := "/api/v1/channels/maker/subscription"
	var st community.SubscriptionState
	for i, tc := range []struct {
		method, tok string
		want        int64
	}{{"PUT", annTok, 1}, {"PUT", annTok, 1}, {"PUT", bobTok, 2}, {"DELETE", bobTok, 1}, {"DELETE", bobTok, 1}} {
		r := ts.do(tc.method, sub, nil, bearer(tc.tok)...)
		wantStatus(t, r, http.StatusOK)
		r.JSON(t, &st)
		if st.SubscriberCount != tc.want || st.Subscribed != (tc.method == "PUT") {
			t.Fatalf("step %d: %+v, want count %d", i, st, tc.want)
		}
	}
	r := ts.do("PUT", sub, nil, bearer(creatorTok)...)
	wantStatus(t, r, http.StatusBadRequest)
	if errCode(t, r) != "own_channel" {
		t.Fatal(string(r.Body))
	}
	wantStatus(t, ts.do("PUT", "/api/v1/channels/nosuchchannel/subscription", nil, bearer(annTok)...), http.StatusNotFound)
	wantStatus(t, ts.do("PUT", sub, nil), http.StatusUnauthorized)

	var chResp struct {
		Channel community.ChannelInfo
		Videos  []struct{ ID, Title string }
	}
	r = ts.do("GET", "/api/v1/channels/maker", nil, bearer(annTok)...)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &chResp)
	if chResp.Channel.SubscriberCount != 1 || !chResp.Channel.Subscribed || chResp.Channel.VideoCount != 2 || len(chResp.Videos) != 2 {
		t.Fatalf("channel = %+v", chResp)
	}
	wantStatus(t, ts.do("GET", "/api/v1/channels/nobody", nil), http.StatusNotFound)

	var feed community.VideoPage
	r = ts.do("GET", "/api/v1/me/feed", nil, bearer(annTok)...)
	wantStatus(t, r, http.StatusOK)
	r.JSON(t, &feed)
	if len(feed.Videos) != 2 || feed.Videos[0].PublicID != pub2 || feed.Videos[1].PublicID != pub1 {
		t.Fatalf("feed = %+v", feed.Videos)
	}
	r = ts.do("GET", "/api/v1/me/feed", nil, bearer(bobTok)...)
	r.JSON(t, &feed)
	if len(feed.Videos) != 0 {
		t.Fatalf("bob's feed = %+v", feed.Videos)
	}
	page := ts.do("GET", "/feed/subscriptions", nil, bearer(annTok)...)
	wantStatus(t, page, http.StatusOK)
	if !strings.Contains(string(page.Body), "/watch/"+pub2) || strings.Contains(string(page.Body), "secret") {
		t.Fatal("feed page is wrong")
	}

	// The no-JavaScript form.
	form := url.Values{"action": {"subscribe"}, "next": {"/watch/" + pub1}}.Encode()
	r = ts.do("POST", "/c/maker/subscribe", form, bearer(bobTok)...)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/watch/"+pub1 {
		t.Fatalf("redirect to %q", loc)
	}
	form = url.Values{"action": {"subscribe"}, "next": {"//evil.example/"}}.Encode()
	r = ts.do("POST", "/c/maker/subscribe", form, bearer(bobTok)...)
	if loc := r.Header.Get("Location"); loc != "/c/maker" {
		t.Fatalf("open redirect to %q", loc)
	}
	r = ts.do("GET", "/c/maker", nil)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), `data-subscriber-count="2"`) {
		t.Fatal("channel page lacks the subscriber count 2")
	}
}

// mustUserID signs up a viewer and returns its id.
func (ts *testServer) mustUserID(email string) int64 {
	_, id := ts.user(email, accounts.RoleCreator)
	return id
}

func TestSearch(t *testing.T) {
	ts := newTestServer(t)
	_, uid := ts.user("creator@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(uid, "kitchen", "Grandma Kitchen", "")
	_, cooking := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "Cooking pasta at home", Description: "water, salt"})
	_, bread := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "Sourdough", Description: "How a baker cooks bread and pasta"})
	ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "Private pasta", Visibility: "private"})
	ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "Unlisted pasta", Visibility: "unlisted"})
	_, uid2 := ts.user("other@example.com", accounts.RoleCreator)
	ch2 := ts.seedChannel(uid2, "garage", "Garage Cars", "")
	_, cars := ts.seedVideo(seedVideo{Channel: ch2, Creator: uid2, Title: "Engine repair"})

	search := func(q string) []string {
		t.Helper()
		r := ts.do("GET", "/api/v1/search?q="+url.QueryEscape(q), nil)
		wantStatus(t, r, http.StatusOK)
		var p struct {
			Videos []struct{ ID string }
		}
		r.JSON(t, &p)
		var ids []string
		for _, v := range p.Videos {
			ids = append(ids, v.ID)
		}
		return ids
	}
	eq := func(q string, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("search %q = %v, want %v", q, got, want)
		}
	}
	// Title beats description; stemming: "cooking" finds "cooks"; never private or unlisted.
	eq("pasta", search("pasta"), cooking, bread)
	eq("cooking", search("cooking"), cooking, bread)
	eq("grandma", search("grandma"), bread, cooking) // channel name; equal rank: newer first
	eq("garage", search("GARAGE"), cars)
	eq("pasta -bread", search("pasta -bread"), cooking)
	eq(`"engine repair"`, search(`"engine repair"`), cars)
	for _, junk := range []string{"", "   ", "&&&", "'", `"`, "!!!", "a:*|!()&<>", "\x00", "'; DROP TABLE videos; --", "the",
		strings.Repeat("x", 10000), strings.Repeat("pasta ", 2000), "\xff\xfe"} {
		got := search(junk)
		if len(got) != 0 && !strings.Contains(junk, "pasta") {
			t.Fatalf("junk %q found %v", junk, got)
		}
	}
	// Pagination.
	r := ts.do("GET", "/api/v1/search?q=pasta&limit=1", nil)
	var p community.VideoPage
	r.JSON(t, &p)
	if len(p.Videos) != 1 || p.Next == "" {
		t.Fatalf("page 1: %+v", p)
	}
	r = ts.do("GET", "/api/v1/search?q=pasta&limit=1&cursor="+p.Next, nil)
	r.JSON(t, &p)
	if len(p.Videos) != 1 || p.Videos[0].PublicID != bread || p.Next != "" {
		t.Fatalf("page 2: %+v", p)
	}
	page := ts.do("GET", "/search?q="+url.QueryEscape("&&&'"), nil)
	wantStatus(t, page, http.StatusOK)
	if !strings.Contains(string(page.Body), "No videos match") {
		t.Fatal("junk search page lacks the empty message")
	}
	page = ts.do("GET", "/search?q=pasta", nil)
	if !strings.Contains(string(page.Body), "/watch/"+cooking) {
		t.Fatal("search page lacks the result")
	}
}

func TestRecentTrendingAndVisibility(t *testing.T) {
	day := time.Date(2025, 3, 20, 15, 0, 0, 0, time.UTC)
	ts := newTestServer(t, withClock(func() time.Time { return day }))
	_, uid := ts.user("creator@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(uid, "maker", "Maker", "")
	base := time.Now().Add(-100 * time.Hour)
	var pubs []string
	var ids []int64
	for i := 0; i < 5; i++ {
		id, pub := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: fmt.Sprint("v", i), Published: base.Add(time.Duration(i) * time.Hour)})
		pubs, ids = append(pubs, pub), append(ids, id)
	}
	privID, _ := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "private", Visibility: "private"})
	unlID, unl := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "unlisted", Visibility: "unlisted"})
	ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "failed", Status: "failed"})

	list := func(path string) ([]string, string) {
		t.Helper()
		r := ts.do("GET", path, nil)
		wantStatus(t, r, http.StatusOK)
		var p community.VideoPage
		r.JSON(t, &p)
		var out []string
		for _, v := range p.Videos {
			out = append(out, v.PublicID)
		}
		return out, p.Next
	}
	got, next := list("/api/v1/videos?limit=3")
	got2, next2 := list("/api/v1/videos?limit=3&cursor=" + next)
	want := []string{pubs[4], pubs[3], pubs[2], pubs[1], pubs[0]}
	if fmt.Sprint(append(got, got2...)) != fmt.Sprint(want) || next2 != "" {
		t.Fatalf("recent = %v + %v, want %v", got, got2, want)
	}

	// Buckets: v1 most in the window, v3 next, v0 only before the window;
	// private and unlisted ones never listed.
	ctx := context.Background()
	for _, b := range []struct {
		id    int64
		day   string
		views int64
	}{
		{ids[1], "2025-03-20", 50}, {ids[1], "2025-03-14", 60}, // both inside the 7-day window
		{ids[3], "2025-03-19", 80},
		{ids[0], "2025-03-13", 1000}, // a day before the window
		{privID, "2025-03-20", 5000}, {unlID, "2025-03-20", 5000},
	} {
		if _, err := ts.db.Pool.Exec(ctx, `INSERT INTO video_views_daily (video_id, creator_id, day, views) VALUES ($1, $2, $3, $4)`,
			b.id, uid, b.day, b.views); err != nil {
			t.Fatal(err)
		}
	}
	got, next = list("/api/v1/videos?sort=trending")
	if fmt.Sprint(got) != fmt.Sprint([]string{pubs[1], pubs[3]}) || next != "" {
		t.Fatalf("trending = %v", got)
	}
	got, next = list("/api/v1/videos?sort=trending&limit=1")
	got2, _ = list("/api/v1/videos?sort=trending&limit=1&cursor=" + next)
	if len(got) != 1 || got[0] != pubs[1] || len(got2) != 1 || got2[0] != pubs[3] {
		t.Fatalf("trending pages = %v, %v", got, got2)
	}
	wantStatus(t, ts.do("GET", "/api/v1/videos?sort=best", nil), http.StatusBadRequest)
	wantStatus(t, ts.do("GET", "/api/v1/videos?limit=x", nil), http.StatusBadRequest)

	home := string(ts.do("GET", "/", nil).Body)
	if !strings.Contains(home, "Trending this week") || !strings.Contains(home, "/watch/"+pubs[1]) || strings.Contains(home, "/watch/"+unl) || strings.Contains(home, ">private<") {
		t.Fatalf("home page:\n%s", home)
	}
	// Unlisted plays with the link; private only for its owner.
	wantStatus(t, ts.do("GET", "/watch/"+unl, nil), http.StatusOK)
}

func TestWatchPage(t *testing.T) {
	ts := newTestServer(t)
	ownerTok, uid := ts.user("creator@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(uid, "maker", "Maker", "")
	_, pub := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "Main", Description: "hello", Renditions: []int{360, 720, 1080}})
	_, other := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "Sibling"})
	_, priv := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "Private one", Visibility: "private"})
	annTok, _ := ts.user("ann@example.com", accounts.RoleViewer)

	r := ts.do("GET", "/v/"+pub, nil)
	wantStatus(t, r, http.StatusMovedPermanently)
	if r.Header.Get("Location") != "/watch/"+pub {
		t.Fatalf("short link goes to %q", r.Header.Get("Location"))
	}
	r = ts.do("GET", "/watch/"+pub, nil)
	wantStatus(t, r, http.StatusOK)
	body := string(r.Body)
	for _, want := range []string{
		`data-video-id="` + pub + `"`,
		`<script src="/static/js/beacon.js" defer></script>`,
		`<script src="/static/js/watch.js" defer></script>`,
		`<source src="/media/videos/` + pub + `/720p.mp4"`, // 720p is the default and comes first
		`<option value="1080" data-src="/media/videos/` + pub + `/1080p.mp4">1080p</option>`,
		`<meta property="og:type" content="video.other">`,
		`<meta property="og:image" content="http://ucc.test/media/videos/` + pub + `/thumb.jpg">`,
		`<meta property="og:video" content="http://ucc.test/media/videos/` + pub + `/720p.mp4">`,
		`<meta property="og:url" content="http://ucc.test/watch/` + pub + `">`,
		`data-view-count="0"`, `/watch/` + other, "Log in to comment",
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("watch page lacks %s", want)
		}
	}
	if strings.Index(body, "/720p.mp4") > strings.Index(body, "/360p.mp4") {
		t.Fatal("720p source is not first")
	}
	body = string(ts.do("GET", "/watch/"+pub+"?quality=1080", nil).Body)
	if strings.Index(body, `<source src="/media/videos/`+pub+`/1080p.mp4"`) < 0 || strings.Index(body, "/1080p.mp4") > strings.Index(body, "/720p.mp4") {
		t.Fatal("?quality=1080 does not put 1080p first")
	}

	wantStatus(t, ts.do("GET", "/watch/"+priv, nil), http.StatusNotFound)
	wantStatus(t, ts.do("GET", "/watch/"+priv, nil, bearer(annTok)...), http.StatusNotFound)
	wantStatus(t, ts.do("GET", "/watch/"+priv, nil, bearer(ownerTok)...), http.StatusOK)
	wantStatus(t, ts.do("GET", "/watch/nosuchvideo", nil), http.StatusNotFound)

	// Forms without JavaScript: comment, like, reply, edit, delete, comments off.
	r = ts.do("POST", "/watch/"+pub+"/comments", url.Values{"body": {"from a form"}}.Encode(), bearer(annTok)...)
	wantStatus(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.Header.Get("Location"), "/watch/"+pub+"#c") {
		t.Fatalf("comment redirect %q", r.Header.Get("Location"))
	}
	cid := strings.TrimPrefix(r.Header.Get("Location"), "/watch/"+pub+"#c")
	r = ts.do("POST", "/watch/"+pub+"/comments", url.Values{"body": {"a form reply"}, "parent_id": {cid}}.Encode(), bearer(ownerTok)...)
	wantStatus(t, r, http.StatusSeeOther)
	r = ts.do("POST", "/watch/"+pub+"/like", url.Values{"value": {"like"}, "next": {"/watch/" + pub}}.Encode(), bearer(annTok)...)
	wantStatus(t, r, http.StatusSeeOther)
	body = string(ts.do("GET", "/watch/"+pub+"?edit="+cid, nil, bearer(annTok)...).Body)
	for _, want := range []string{"from a form", "a form reply", `<span data-likes>1</span>`, `aria-pressed="true" data-reaction="like"`,
		`action="/comments/` + cid + `/edit"`, `action="/comments/` + cid + `/delete"`, "Add a comment"} {
		if !strings.Contains(body, want) {
			t.Fatalf("watch page (ann) lacks %s", want)
		}
	}
	if strings.Contains(body, "Turn comments off") {
		t.Fatal("a viewer sees the comment switch")
	}
	wantStatus(t, ts.do("POST", "/comments/"+cid+"/edit", url.Values{"body": {"edited by form"}}.Encode(), bearer(annTok)...), http.StatusSeeOther)
	body = string(ts.do("GET", "/watch/"+pub, nil).Body)
	if !strings.Contains(body, "edited by form") || !strings.Contains(body, "(edited)") {
		t.Fatal("edit did not show")
	}
	wantStatus(t, ts.do("POST", "/comments/"+cid+"/edit", url.Values{"body": {"owner edit"}}.Encode(), bearer(ownerTok)...), http.StatusForbidden)
	body = string(ts.do("GET", "/watch/"+pub, nil, bearer(ownerTok)...).Body)
	if !strings.Contains(body, "Turn comments off") || !strings.Contains(body, `action="/comments/`+cid+`/delete"`) {
		t.Fatal("the owner lacks moderation controls")
	}
	wantStatus(t, ts.do("POST", "/watch/"+pub+"/comment-settings", url.Values{"enabled": {"false"}}.Encode(), bearer(ownerTok)...), http.StatusSeeOther)
	body = string(ts.do("GET", "/watch/"+pub, nil, bearer(annTok)...).Body)
	if !strings.Contains(body, "Comments are turned off") || strings.Contains(body, "Add a comment") {
		t.Fatal("comments-off notice missing")
	}
	r = ts.do("POST", "/watch/"+pub+"/comments", url.Values{"body": {"again"}}.Encode(), bearer(annTok)...)
	wantStatus(t, r, http.StatusForbidden)
	if !strings.Contains(string(r.Body), "comments are turned off") {
		t.Fatal("error page lacks the reason")
	}
	wantStatus(t, ts.do("POST", "/comments/"+cid+"/delete", "", bearer(ownerTok)...), http.StatusSeeOther)
	body = string(ts.do("GET", "/watch/"+pub, nil).Body)
	if !strings.Contains(body, "comment deleted") || !strings.Contains(body, "a form reply") {
		t.Fatal("deleted parent with a reply should show a placeholder")
	}
	// Anonymous form posts go to the log-in page.
	r = ts.do("POST", "/watch/"+pub+"/like", url.Values{"value": {"like"}}.Encode(), "Origin", ts.http.URL)
	wantStatus(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous like goes to %q", r.Header.Get("Location"))
	}
}

func TestWatchPageWithManyComments(t *testing.T) {
	ts := newTestServer(t)
	_, _, _, vid, pub := ts.creatorWithVideo("creator@example.com", "maker")
	_, annID := ts.user("ann@example.com", accounts.RoleViewer)
	seedComments(t, ts, vid, annID, 1000)
	start := time.Now()
	r := ts.do("GET", "/watch/"+pub, nil)
	took := time.Since(start)
	wantStatus(t, r, http.StatusOK)
	body := string(r.Body)
	if n := strings.Count(body, `<li class="comment`); n != watchCommentsPerPage+watchCommentsPerPage/2*community.RepliesPreview {
		t.Fatalf("%d comments rendered", n)
	}
	if !strings.Contains(body, "More comments") || !strings.Contains(body, "View all 5 replies") {
		t.Fatal("pagination links missing")
	}
	t.Logf("watch page with 1000 comments: %v, %d bytes", took, len(body))
}

// seedComments inserts n comments on vid: n/2 top-level ones, and 5 replies
// on every second of the newest n/5 top-level ones (n/2 replies in all).
func seedComments(t testing.TB, ts *testServer, vid, uid int64, n int) {
	t.Helper()
	ctx := context.Background()
	top := n / 2
	if _, err := ts.db.Pool.Exec(ctx, `INSERT INTO comments (video_id, user_id, body)
		SELECT $1, $2, 'top comment ' || g FROM generate_series(1, $3::int) g ORDER BY g`, vid, uid, top); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.db.Pool.Exec(ctx, `WITH p AS (
			SELECT id, row_number() OVER (ORDER BY id DESC) AS rn FROM comments WHERE video_id = $1 AND parent_id IS NULL
		)
		INSERT INTO comments (video_id, user_id, parent_id, body)
		SELECT $1, $2, p.id, 'reply ' || g FROM p, generate_series(1, 5) g
		WHERE p.rn % 2 = 0 AND p.rn <= $3::int / 5 * 2 ORDER BY p.id, g`, vid, uid, n-top); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.db.Pool.Exec(ctx, `UPDATE comments c SET reply_count = (SELECT count(*) FROM comments r WHERE r.parent_id = c.id)
		WHERE c.video_id = $1 AND c.parent_id IS NULL`, vid); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.db.Pool.Exec(ctx, `UPDATE videos SET comment_count = (SELECT count(*) FROM comments WHERE video_id = $1) WHERE id = $1`, vid); err != nil {
		t.Fatal(err)
	}
}

// TestWatchThreadShownOnce: opening a thread (?thread=ID) shows that comment
// with all its replies once, above the other comments, not twice.
func TestWatchThreadShownOnce(t *testing.T) {
	ts := newTestServer(t, withCommunity(community.Config{CommentLimit: 100, CommentWindow: time.Minute}))
	_, _, _, _, pub := ts.creatorWithVideo("threads@example.com", "threads")
	tok, _ := ts.user("talker@example.com", accounts.RoleViewer)
	path := "/api/v1/videos/" + pub + "/comments"
	var top, other commentJSON
	ts.do("POST", path, map[string]any{"body": "top comment"}, bearer(tok)...).JSON(t, &top)
	ts.do("POST", path, map[string]any{"body": "another comment"}, bearer(tok)...).JSON(t, &other)
	for i := 1; i <= 5; i++ {
		wantStatus(t, ts.do("POST", path, map[string]any{"body": fmt.Sprintf("reply number %d", i), "parent_id": top.Comment.ID}, bearer(tok)...), http.StatusCreated)
	}
	page := string(ts.do("GET", fmt.Sprintf("/watch/%s?thread=%d", pub, top.Comment.ID), nil).Body)
	if n := strings.Count(page, fmt.Sprintf(`id="c%d"`, top.Comment.ID)); n != 1 {
		t.Fatalf("the open thread's comment appears %d times, want once", n)
	}
	for i := 1; i <= 5; i++ {
		if n := strings.Count(page, fmt.Sprintf("reply number %d", i)); n != 1 {
			t.Errorf("reply %d appears %d times in the open thread, want once", i, n)
		}
	}
	if !strings.Contains(page, fmt.Sprintf(`id="c%d"`, other.Comment.ID)) {
		t.Error("the other comments are gone while a thread is open")
	}
}

// TestTrendingCached: the trending ranking is reused for TrendingTTL (it
// sums a week of buckets) and recomputed after it: behind the expired one
// at first, before answering once it is more than ten TTLs old.
func TestTrendingCached(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2025, 3, 20, 15, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
	ts := newTestServer(t, withCommunity(community.Config{CommentLimit: 10, CommentWindow: time.Minute, TrendingTTL: time.Minute}), withClock(clock))
	_, uid := ts.user("trend@example.com", accounts.RoleCreator)
	ch := ts.seedChannel(uid, "trender", "T", "")
	a, pubA := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "A"})
	b, pubB := ts.seedVideo(seedVideo{Channel: ch, Creator: uid, Title: "B"})
	bucket := func(id int64, n int) {
		if _, err := ts.db.Pool.Exec(context.Background(), `INSERT INTO video_views_daily (video_id, creator_id, day, views) VALUES ($1, $2, '2025-03-20', $3)
			ON CONFLICT (video_id, day) DO UPDATE SET views = video_views_daily.views + excluded.views`, id, uid, n); err != nil {
			t.Fatal(err)
		}
	}
	first := func() string {
		var p community.VideoPage
		ts.do("GET", "/api/v1/videos?sort=trending", nil).JSON(t, &p)
		if len(p.Videos) == 0 {
			t.Fatal("trending is empty")
		}
		return p.Videos[0].PublicID
	}
	bucket(a, 10)
	bucket(b, 5)
	if got := first(); got != pubA {
		t.Fatalf("trending starts with %s, want A", got)
	}
	bucket(b, 100)
	now.Add(int64(30 * time.Second))
	if got := first(); got != pubA {
		t.Fatalf("within the TTL trending starts with %s, want the cached A", got)
	}
	// After the TTL the expired ranking is still served while one refresh
	// runs behind it; the refresh lands within moments.
	now.Add(int64(31 * time.Second))
	deadline := time.Now().Add(20 * time.Second)
	for first() != pubB {
		if time.Now().After(deadline) {
			t.Fatal("after the TTL trending was never recomputed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Far past the TTL (the server idle for ten of them) nothing stale is served.
	bucket(a, 1000)
	now.Add(int64(11 * time.Minute))
	if got := first(); got != pubA {
		t.Fatalf("ten TTLs later trending starts with %s, want the recomputed A", got)
	}
}
