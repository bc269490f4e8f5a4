package web

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

func (s *Server) routes() {
	e := s.engine
	e.Use(s.recoverer(), s.requestLog(), s.securityHeaders(), s.bodyGuard(), s.requestDeadline(), s.authenticate(), s.csrfProtect())
	e.NoRoute(func(c *gin.Context) { s.fail(c, errNoRoute) })
	e.NoMethod(func(c *gin.Context) { s.fail(c, errNoRoute) })
	e.HandleMethodNotAllowed = false

	// Operations.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(s.metricsHandler()))
	e.StaticFS("/static", noListing{http.FS(s.deps.Static)})
	e.GET("/favicon.ico", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/static/img/logo.svg") })

	// Pages.
	e.GET("/", s.homePage)
	e.GET("/signup", s.signupPage)
	e.POST("/signup", s.signupSubmit)
	e.GET("/login", s.loginPage)
	e.POST("/login", s.loginSubmit)
	e.POST("/logout", s.logout)

	// JSON API.
	api := e.Group("/api/v1")
	api.POST("/auth/signup", s.apiSignup)
	api.POST("/auth/tokens", s.apiCreateToken)
	api.DELETE("/auth/tokens/current", s.requireUser, s.apiRevokeToken)
	api.GET("/me", s.requireUser, s.apiMe)
	s.videoRoutes(e, api)
	s.communityRoutes(e, api)
	s.uploadRoutes(e, api)
	s.viewRoutes(api)
	s.revenueRoutes(e, api)
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
