//go:build linux

package videos

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestRemoveStaleWorkDirs: directories whose lock no live process holds (or
// that never got one and are old) go; a running job's and a brand-new one stay.
func TestRemoveStaleWorkDirs(t *testing.T) {
	root := t.TempDir()
	pl := newPipeline("", "", "", root, nil)
	running, release, err := pl.newWorkDir()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	mk := func(name string, lock bool, age time.Duration) {
		t.Helper()
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "sub", "original"), []byte("bytes"), 0o644); err != nil {
			t.Fatal(err)
		}
		if lock { // a lock file nobody holds: its process died
			if err := os.WriteFile(filepath.Join(dir, workDirLock), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		old := time.Now().Add(-age)
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
	}
	mk(workDirPrefix+"dead", true, 0)
	mk(workDirPrefix+"nolock-old", false, time.Hour)
	mk(workDirPrefix+"nolock-new", false, 0)
	mk("other-program", true, time.Hour)

	n, err := pl.removeStaleWorkDirs()
	if err != nil || n != 2 {
		t.Fatalf("RemoveStaleWorkDirs = %d, %v; want 2", n, err)
	}
	entries, _ := os.ReadDir(root)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{filepath.Base(running), workDirPrefix + "nolock-new", "other-program"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("left %v, want %v", left, want)
	}
}
