package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// homePage is the front page: trending and recent videos.
func (s *Server) homePage(c *gin.Context) {
	d, err := s.homeSections(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.htmlPage(c, http.StatusOK, "home", Page{Title: "UCC", Description: "Watch and share videos from independent creators.", Data: d})
}
