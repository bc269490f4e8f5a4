package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// homePage is the front page; feature packages fill its sections as they land.
func (s *Server) homePage(c *gin.Context) {
	s.htmlPage(c, http.StatusOK, "home", Page{Title: "UCC", Description: "Watch and share videos from independent creators."})
}
