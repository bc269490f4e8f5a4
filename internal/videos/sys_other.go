//go:build !linux

package videos

import (
	"os"
	"syscall"
)

// childAttr has no parent-death signal outside Linux.
func childAttr() *syscall.SysProcAttr { return nil }

// lockFile cannot tell a dead owner outside Linux: every lock looks held,
// so working directories are never taken for stale.
func lockFile(*os.File) (bool, error) { return false, nil }
