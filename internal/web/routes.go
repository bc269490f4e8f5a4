package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ucc-video/ucc/internal/accounts"
	"github.com/ucc-video/ucc/internal/videos"
)

// route is one URL of the server: its method and gin path pattern, how its
// request body and deadline are handled, and its middleware and handler in
// the order they run (after the body rule, authentication and the CSRF
// check, which every route gets).
type route struct {
	method, path string
	body         bodyRule
	chain        []gin.HandlerFunc
}

// limit caps the route's buffered body at n bytes (below maxBodyBytes).
func (r route) limit(n int64) route { r.body.max = n; return r }

// streamsBody marks a route whose handler reads its body as a stream, with
// a size cap of its own: an idle read cutoff instead of a total body
// deadline, and no request deadline, so a long upload is never cut off
// while bytes flow.
func (r route) streamsBody() route { r.body.stream = true; return r }

// streamsAnswer marks a route whose answer may stream for as long as bytes
// flow (media downloads): no request deadline.
func (r route) streamsAnswer() route { r.body.longAnswer = true; return r }

// Body caps of the JSON routes, by what they carry.
const (
	smallBody   = 64 << 10 // credentials, a video's fields
	tinyBody    = 1 << 10  // a flag or a reaction
	formBody    = 4 << 10  // a finance form, a payout profile, a view report
	channelBody = 32 << 10 // a channel's name, handle and description
	// commentBody holds 10,000 characters of 4-byte UTF-8 with JSON escaping.
	commentBody = 128 << 10
)

// routeTable is every URL UCC serves, with its middleware. It is the one
// place to read what a path does, who may call it and how its body is read.
func (s *Server) routeTable() []route {
	user := s.requireUser
	finance := s.requireRole(accounts.RoleFinance, accounts.RoleAdmin)
	creator := s.requireRole(accounts.RoleCreator, accounts.RoleAdmin)
	tus, tusVersion := s.tusHeaders, s.tusResumable
	static := s.staticFile()
	// Searches and video lists: per client network per minute.
	search, lists := s.perNetwork("search", s.cfg.SearchRateLimit), s.perNetwork("list", s.cfg.ListRateLimit)
	get, head, post, put := answering(http.MethodGet), answering(http.MethodHead), answering(http.MethodPost), answering(http.MethodPut)
	patch, del, options := answering(http.MethodPatch), answering(http.MethodDelete), answering(http.MethodOptions)
	return []route{
		// Operations and static files.
		get("/healthz", s.healthz),
		get("/readyz", s.readyz),
		get("/metrics", s.metricsRoute()),
		get("/static/*filepath", static),
		head("/static/*filepath", static),
		get("/favicon.ico", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/static/img/logo.svg") }),

		// The API contract (openapi.yaml) as JSON.
		get("/api/v1/openapi.json", s.apiOpenAPI),

		// Accounts: pages and API.
		get("/", lists, s.homePage),
		get("/signup", s.signupPage),
		post("/signup", s.signupSubmit),
		get("/login", s.loginPage),
		post("/login", s.loginSubmit),
		post("/logout", s.logout),
		post("/api/v1/auth/signup", s.apiSignup).limit(smallBody),
		post("/api/v1/auth/tokens", s.apiCreateToken).limit(smallBody),
		del("/api/v1/auth/tokens/current", user, s.apiRevokeToken),
		get("/api/v1/me", user, s.apiMe),
		patch("/api/v1/me", user, s.apiPatchMe).limit(tinyBody),

		// Languages: the footer's switcher and the account's settings.
		post("/language", s.languageSubmit),
		get("/settings", user, s.settingsPage),
		post("/settings", user, s.settingsSubmit),

		// The account's sessions and tokens, and its password
		// (docs/api-accounts.md).
		get("/api/v1/me/sessions", user, s.apiSessions),
		del("/api/v1/me/sessions", user, s.apiRevokeSessions),
		del("/api/v1/me/sessions/:id", user, s.apiRevokeSession),
		get("/api/v1/me/tokens", user, s.apiTokens),
		del("/api/v1/me/tokens", user, s.apiRevokeTokens),
		del("/api/v1/me/tokens/:id", user, s.apiRevokeTokenID),
		post("/api/v1/me/password", user, s.apiChangePassword).limit(smallBody),
		get("/settings/security", user, s.securityPage),
		post("/settings/security/sessions/revoke-others", user, s.securityRevokeOtherSessions),
		post("/settings/security/sessions/:id/revoke", user, s.securityRevokeSession),
		post("/settings/security/tokens/revoke-all", user, s.securityRevokeTokens),
		post("/settings/security/tokens/:id/revoke", user, s.securityRevokeToken),
		post("/settings/security/password", user, s.securityPassword),

		// Channels, uploads, a creator's videos and the studio.
		post("/api/v1/channels", user, s.apiCreateChannel).limit(channelBody),
		get("/api/v1/me/channel", user, s.apiMyChannel),
		get("/api/v1/me/videos", user, s.apiMyVideos),
		post("/api/v1/videos", user, s.apiUploadVideo).streamsBody(),
		get("/api/v1/videos/:id", s.apiGetVideo),
		patch("/api/v1/videos/:id", user, s.apiPatchVideo).limit(smallBody),
		put("/api/v1/videos/:id/thumbnail", user, s.apiPutThumbnail).streamsBody(),
		del("/api/v1/videos/:id", user, s.apiDeleteVideo),
		get(strings.TrimSuffix(videos.MediaPrefix, "/")+"/*key", s.serveMedia).streamsAnswer(),
		get("/channels/new", user, s.channelNewPage),
		post("/channels/new", user, s.channelNewSubmit),
		get("/studio", user, s.studioPage),
		get("/studio/videos/:id/edit", user, s.videoEditPage),
		post("/studio/videos/:id/edit", user, s.videoEditSubmit),
		post("/studio/videos/:id/thumbnail", user, s.videoThumbnailSubmit).streamsBody(),
		post("/studio/videos/:id/delete", user, s.videoDeleteSubmit),

		// Resumable uploads (tus 1.0). Whoever has a channel may upload (the
		// simple upload's rule): creation is refused without one, and a
		// session answers only its owner.
		options("/api/v1/uploads", tus, s.tusOptions),
		options("/api/v1/uploads/:id", tus, s.tusOptions),
		post("/api/v1/uploads", tus, user, tusVersion, s.tusCreate),
		head("/api/v1/uploads/:id", tus, user, tusVersion, s.tusHead),
		patch("/api/v1/uploads/:id", tus, user, tusVersion, s.tusPatch).streamsBody(),
		del("/api/v1/uploads/:id", tus, user, tusVersion, s.tusDelete),
		get("/upload", user, s.uploadPage),

		// Watching, lists and search: pages.
		get("/watch/:id", s.watchPage),
		get("/v/:id", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/watch/"+c.Param("id")) }),
		post("/watch/:id/comments", user, s.watchCommentSubmit).limit(commentBody),
		post("/watch/:id/like", user, s.watchLikeSubmit),
		post("/watch/:id/comment-settings", user, s.watchCommentSettingsSubmit),
		post("/comments/:id/edit", user, s.commentEditSubmit).limit(commentBody),
		post("/comments/:id/delete", user, s.commentDeleteSubmit),
		get("/c/:handle", lists, s.channelPage),
		post("/c/:handle/subscribe", user, s.subscribeSubmit),
		get("/search", search, s.searchPage),
		get("/liked", user, lists, s.likedPage),
		get("/feed/subscriptions", user, lists, s.feedPage),

		// Watching, lists and search: API.
		get("/api/v1/videos", lists, s.apiListVideos),
		get("/api/v1/search", search, s.apiSearch),
		get("/api/v1/videos/:id/comments", s.apiListComments),
		post("/api/v1/videos/:id/comments", user, s.apiPostComment).limit(commentBody),
		put("/api/v1/videos/:id/comment-settings", user, s.apiCommentSettings).limit(tinyBody),
		put("/api/v1/videos/:id/like", user, s.apiLike).limit(tinyBody),
		get("/api/v1/comments/:id/replies", s.apiReplies),
		patch("/api/v1/comments/:id", user, s.apiEditComment).limit(commentBody),
		del("/api/v1/comments/:id", user, s.apiDeleteComment),
		get("/api/v1/channels/:handle", s.apiChannel),
		put("/api/v1/channels/:handle/subscription", user, s.apiSubscribe(true)),
		del("/api/v1/channels/:handle/subscription", user, s.apiSubscribe(false)),
		get("/api/v1/me/liked", user, lists, s.apiLiked),
		get("/api/v1/me/feed", user, lists, s.apiFeed),

		// View counting.
		get("/api/v1/videos/:id/play", s.apiPlay),
		post("/api/v1/videos/:id/views", s.apiReportView).limit(viewReportBody),
		get("/api/v1/videos/:id/views", s.apiViewCount),

		// Revenue: the finance API and pages (finance staff and admins). The
		// API's calculate runs synchronously (finance sees the result or the
		// 409 at once); revenue.CalculateWorker runs the same code as a job.
		post("/api/v1/revenue/periods", user, finance, s.apiCreatePeriod).limit(formBody),
		get("/api/v1/revenue/periods", user, finance, s.apiPeriods),
		get("/api/v1/revenue/periods/:period", user, finance, s.apiPeriod),
		post("/api/v1/revenue/periods/:period/calculate", user, finance, s.apiPeriodStep(s.deps.Revenue.Calculate)),
		post("/api/v1/revenue/periods/:period/approve", user, finance, s.apiPeriodStep(s.deps.Revenue.Approve)),
		post("/api/v1/revenue/periods/:period/mark-paid", user, finance, s.apiMarkPaid).limit(formBody),
		post("/api/v1/revenue/periods/:period/adjustments", user, finance, s.apiAdjust).limit(formBody),
		get("/api/v1/revenue/periods/:period/adjustments", user, finance, s.apiAdjustments),
		get("/api/v1/revenue/periods/:period/payouts", user, finance, s.apiPayouts),
		get("/api/v1/revenue/periods/:period/payouts.csv", user, finance, s.payoutsCSV),
		get("/api/v1/revenue/periods/:period/audit", user, finance, s.apiAudit),
		get("/finance", user, finance, s.financePage),
		post("/finance/periods", user, finance, s.financeCreate),
		get("/finance/periods/:period", user, finance, s.financePeriodPage),
		post("/finance/periods/:period/:action", user, finance, s.financeAction),

		// Revenue: a creator's earnings and payout profile.
		get("/api/v1/me/payout-profile", user, creator, s.apiGetProfile),
		put("/api/v1/me/payout-profile", user, creator, s.apiPutProfile).limit(formBody),
		get("/api/v1/me/earnings", user, s.apiEarnings),
		get("/earnings", user, s.earningsPage),
		post("/earnings/payout-profile", user, creator, s.earningsProfileSubmit),
	}
}

// answering returns the constructor of routes for the HTTP method m, with
// the zero body rule.
func answering(m string) func(path string, chain ...gin.HandlerFunc) route {
	return func(path string, chain ...gin.HandlerFunc) route { return route{method: m, path: path, chain: chain} }
}

// routes registers the table. Every route runs its body rule first (a body
// is bounded before anything reads it), then authentication and the CSRF
// check; unknown paths get the same before their 404.
func (s *Server) routes() {
	e := s.engine
	e.Use(s.recoverer(), s.requestLog(), s.securityHeaders(), s.varyByLanguage())
	s.authn, s.csrfCheck = s.authenticate(), s.csrfProtect()
	notFound := func(c *gin.Context) { s.fail(c, errNoRoute) }
	e.NoRoute(s.guard(bodyRule{}), s.authn, s.csrfCheck, notFound)
	e.NoMethod(s.guard(bodyRule{}), s.authn, s.csrfCheck, notFound)
	e.HandleMethodNotAllowed = false
	for _, r := range s.routeTable() {
		s.register(r)
	}
}

// register adds r to the engine behind the middleware every route runs.
func (s *Server) register(r route) {
	chain := append([]gin.HandlerFunc{s.guard(r.body), s.authn, s.csrfCheck}, r.chain...)
	s.engine.Handle(r.method, r.path, chain...)
}

// staticFile serves the embedded static files (no directory listings);
// a missing file is the ordinary 404.
func (s *Server) staticFile() gin.HandlerFunc {
	files := noListing{http.FS(s.deps.Static)}
	server := http.StripPrefix("/static", http.FileServer(files))
	return func(c *gin.Context) {
		f, err := files.Open(c.Param("filepath"))
		if err != nil {
			s.fail(c, errNoRoute)
			return
		}
		f.Close()
		server.ServeHTTP(c.Writer, c.Request)
	}
}

// noListing serves files but not directory listings.
type noListing struct{ fs http.FileSystem }

func (n noListing) Open(name string) (http.File, error) {
	f, err := n.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		return nil, fs.ErrNotExist
	}
	return f, nil
}
