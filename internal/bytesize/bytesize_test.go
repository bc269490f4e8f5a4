package bytesize

import (
	"math"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ucc-video/ucc/internal/testenv"
)

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 bytes", 500: "500 bytes", 1023: "1023 bytes", 1024: "1 KiB", 1536: "1.5 KiB",
		5 << 20: "5 MiB", 8 << 30: "8 GiB", 9_200_000_000: "8.6 GiB",
		100 << 30: "100 GiB", 1<<20 - 1: "1024 KiB", math.MaxInt64: "8 EiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestUploadPageFormatsAlike runs static/js/upload.js's formatBytes under
// node on the same numbers as Format, so the upload page and the server
// never disagree on a size.
func TestUploadPageFormatsAlike(t *testing.T) {
	src, err := os.ReadFile("../../static/js/upload.js")
	if err != nil {
		t.Fatal(err)
	}
	fn := regexp.MustCompile(`(?s)function formatBytes\(n\) \{.*?\n  \}`).Find(src)
	if fn == nil {
		t.Fatal("static/js/upload.js has no formatBytes function")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node is not on PATH")
	}
	ns := []int64{0, 1, 999, 1023, 1024, 1025, 1500, 10 << 10, 1<<20 - 1, 1 << 20, 3_500_000, 8 << 30, 8<<30 - 1, 9_200_000_000, 100 << 30, 5 << 40}
	var list []string
	for _, n := range ns {
		list = append(list, strconv.FormatInt(n, 10))
	}
	// Below 1024 the page writes the catalog's format.bytes (as i18n.Localizer.Size
	// does); here a stand-in writes what Format does.
	script := "function bytesWord(n) { return n + ' bytes'; }\n" + string(fn) + "\nfor (const n of [" + strings.Join(list, ",") + "]) console.log(formatBytes(n));"
	out, err := exec.Command(node, "-e", script).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(got) != len(ns) {
		t.Fatalf("node printed %d lines for %d numbers: %q", len(got), len(ns), out)
	}
	for i, n := range ns {
		if want := Format(n); got[i] != want {
			t.Errorf("upload.js formatBytes(%d) = %q, Go says %q", n, got[i], want)
		}
	}
}
