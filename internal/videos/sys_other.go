//go:build !linux

package videos

import (
	"errors"
	"os"
	"syscall"
)

// childAttr has no parent-death signal outside Linux.
func childAttr() *syscall.SysProcAttr { return nil }

// lockFile cannot tell a dead owner outside Linux: every lock looks held,
// so working directories are never taken for stale.
func lockFile(*os.File) (bool, error) { return false, nil }

// freeBytes is not measured outside Linux: the disk check is skipped.
func freeBytes(string) (int64, error) { return 0, errors.ErrUnsupported }
