package postgres

import "context"

// SetBeforeCommit is the tests' seam into Revenue: f runs inside
// Calculate's transaction after every row is written, before COMMIT (nil
// removes it).
func SetBeforeCommit(s *Revenue, f func(ctx context.Context) error) { s.beforeCommit = f }
