package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// homePage is the front page; feature packages fill its sections as they land.
func (s *Server) homePage(c *gin.Context) {
	var data any
	if s.deps.Community != nil {
		d, err := s.homeSections(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		data = d
	}
	s.htmlPage(c, http.StatusOK, "home", Page{Title: "UCC", Description: "Watch and share videos from independent creators.", Data: data})
}
