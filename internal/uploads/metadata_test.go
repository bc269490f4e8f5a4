package uploads

import (
	"errors"
	"testing"

	"github.com/ucc-video/ucc/internal/errs"
)

func TestParseMetadata(t *testing.T) {
	m, err := ParseMetadata("title TXkgY2xpcA==, description ,private,filename Y2xpcC5tcDQ")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"title": "My clip", "description": "", "private": "", "filename": "clip.mp4"}
	if len(m) != len(want) {
		t.Fatalf("got %v", m)
	}
	for k, v := range want {
		if m[k] != v {
			t.Fatalf("%s = %q, want %q", k, m[k], v)
		}
	}
	if back, err := ParseMetadata(FormatMetadata(m)); err != nil || back["title"] != "My clip" || back["filename"] != "clip.mp4" {
		t.Fatalf("round trip: %v %v", back, err)
	}
	for _, bad := range []string{"title !!!", "a eA==,a eA==", ",", "tïtle eA=="} {
		if _, err := ParseMetadata(bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseMetadata(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestCleanMetadata(t *testing.T) {
	m, err := cleanMetadata(map[string]string{"filename": `C:\videos\Holiday 2024.final.mp4`})
	if err != nil || m["title"] != "Holiday 2024.final" || m["visibility"] != "public" {
		t.Fatalf("from filename: %v %v", m, err)
	}
	if m, _ := cleanMetadata(map[string]string{}); m["title"] != "Untitled video" {
		t.Fatalf("no title: %v", m)
	}
	if _, err := cleanMetadata(map[string]string{"visibility": "friends"}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("bad visibility: %v", err)
	}
}

func TestPartSizeFor(t *testing.T) {
	s := NewService(nil, nil, nil, nil, Config{}, nil)
	if got := s.partSizeFor(1 << 30); got != DefaultPartSize {
		t.Fatalf("1 GiB: part size %d", got)
	}
	big := int64(200) << 30
	ps := s.partSizeFor(big)
	if (big+ps-1)/ps > plannedParts || ps%(1<<20) != 0 {
		t.Fatalf("200 GiB: part size %d gives %d parts", ps, (big+ps-1)/ps)
	}
}
