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
// the failing ones: "failing" for anonymous callers (the errors go to the
// log), the error itself for a caller with the metrics token.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c, 3*time.Second)
	defer cancel()
	results := make(map[string]string, len(s.deps.ReadyChecks))
	// The raw errors (addresses, driver messages) only for operators.
	operator := s.operator(c)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, chk := range s.deps.ReadyChecks {
		wg.Go(func() {
			res := "ok"
			if err := chk.Check(ctx); err != nil {
				res = "failing"
				s.log.WarnContext(c, "readiness check failed", "check", chk.Name, "err", err)
				if operator {
					res = err.Error()
				}
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
