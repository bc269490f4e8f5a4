package videos

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// workDirPrefix names the temporary directories transcoding jobs work in.
const workDirPrefix = "ucc-transcode-"

// workDirLock is the file in a working directory its process holds locked
// while the job runs; a lock nobody holds marks a directory of a dead process.
const workDirLock = ".lock"

// newWorkDir makes a job's working directory and locks it for as long as
// this process lives; release removes it.
func (pl *pipeline) newWorkDir() (dir string, release func(), err error) {
	dir, err = os.MkdirTemp(pl.tempDir, workDirPrefix)
	if err != nil {
		return "", nil, err
	}
	f, err := os.Create(filepath.Join(dir, workDirLock))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	if _, err := lockFile(f); err != nil {
		f.Close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, func() {
		os.RemoveAll(dir)
		f.Close()
	}, nil
}

// RemoveStaleWorkDirs removes the working directories (originals downloaded
// from S3, partial renditions) that transcoding jobs of dead processes left
// in the temporary directory, and returns how many it removed. A directory
// whose lock a live process holds is left alone, so workers sharing the
// directory are safe. Run it when a worker starts.
func (s *Service) RemoveStaleWorkDirs() (int, error) { return s.pipeline.removeStaleWorkDirs() }

// removeStaleWorkDirs is RemoveStaleWorkDirs in the pipeline's directory.
func (pl *pipeline) removeStaleWorkDirs() (int, error) {
	root := pl.tempDir
	if root == "" {
		root = os.TempDir()
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0, err
	}
	n := 0
	var errList []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), workDirPrefix) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		f, err := os.OpenFile(filepath.Join(dir, workDirLock), os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			// Killed between making the directory and its lock: stale
			// once it is older than that instant could be.
			if info, ierr := e.Info(); ierr != nil || time.Since(info.ModTime()) < time.Minute {
				continue
			}
		} else if err != nil {
			errList = append(errList, err)
			continue
		} else {
			free, lerr := lockFile(f)
			if lerr != nil || !free {
				f.Close()
				continue
			}
			defer f.Close() // hold the lock until the directory is gone
		}
		if err := os.RemoveAll(dir); err != nil {
			errList = append(errList, err)
			continue
		}
		n++
	}
	return n, errors.Join(errList...)
}
