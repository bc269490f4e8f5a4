package videos

import (
	"errors"
	"os"
	"syscall"
)

// childAttr makes the kernel kill an ffmpeg/ffprobe child when UCC dies
// (even by SIGKILL), so a crashed worker leaves no encoder running on.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// lockFile takes an exclusive lock on f that the kernel drops when the
// process dies; ok is false when another live process holds it.
func lockFile(f *os.File) (ok bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

// freeBytes is the disk space left to an unprivileged user under dir.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
