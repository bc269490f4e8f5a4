package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok", "version": s.cfg.Version})
}

// readyz asks every dependency at once, each with a short timeout, and names
// the failing ones.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c, 3*time.Second)
	defer cancel()
	results := make(map[string]string, len(s.deps.ReadyChecks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, chk := range s.deps.ReadyChecks {
		wg.Go(func() {
			res := "ok"
			if err := chk.Check(ctx); err != nil {
				res = err.Error()
			}
			mu.Lock()
			results[chk.Name] = res
			mu.Unlock()
		})
	}
	wg.Wait()
	var failing []string
	for _, chk := range s.deps.ReadyChecks {
		if results[chk.Name] != "ok" {
			failing = append(failing, chk.Name)
		}
	}
	if len(failing) > 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "failing": failing, "checks": results})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": results})
}
