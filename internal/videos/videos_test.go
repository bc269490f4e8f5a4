package videos

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ucc-video/ucc/internal/objects"
)

func TestLadder(t *testing.T) {
	tests := []struct {
		short int
		want  []int
	}{
		{240, []int{240}},
		{241, []int{240}},
		{360, []int{360}},
		{400, []int{360}},      // less than 25% above 360: not worth a rendition
		{480, []int{360, 480}}, // between rungs: keep the source's own size
		{720, []int{360, 720}}, //
		{1000, []int{360, 720, 1000}},
		{1080, []int{360, 720, 1080}},
		{2160, []int{360, 720, 1080}}, // never above 1080
		{0, nil},
	}
	for _, tt := range tests {
		if got := Ladder(tt.short); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Ladder(%d) = %v, want %v", tt.short, got, tt.want)
		}
	}
}

func TestParseProbeRotationAndCoverArt(t *testing.T) {
	p, err := parseProbe([]byte(`{"format":{"format_name":"mov,mp4","duration":"3.5"},"streams":[
		{"codec_type":"video","codec_name":"mjpeg","width":300,"height":300,"disposition":{"attached_pic":1}},
		{"codec_type":"video","codec_name":"h264","width":1920,"height":1080,"side_data_list":[{"rotation":-90}]},
		{"codec_type":"audio","codec_name":"aac"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Width != 1080 || p.Height != 1920 || p.VideoCodec != "h264" || p.AudioCodec != "aac" || p.Duration != 3.5 {
		t.Fatalf("probe = %+v", p)
	}
	_, err = parseProbe([]byte(`{"format":{"format_name":"mov","duration":"1"},"streams":[{"codec_type":"data","codec_name":"bin_data"}]}`))
	if !errors.Is(err, ErrNoStreams) {
		t.Fatalf("no streams: %v", err)
	}
	_, err = parseProbe([]byte(`{"format":{"format_name":"mov"},"streams":[{"codec_type":"audio","codec_name":"aac"}]}`))
	if !errors.Is(err, errProbeFailed) {
		t.Fatalf("no duration: %v", err)
	}
}

func TestSniffMedia(t *testing.T) {
	for in, want := range map[string]bool{
		"\x00\x00\x00\x20ftypisom": true,
		"\x1a\x45\xdf\xa3\x01":     true,
		"OggS\x00":                 true,
		"hello world, not a video": false,
		"":                         false,
	} {
		if got := SniffMedia([]byte(in)); got != want {
			t.Errorf("SniffMedia(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestValidateHandle(t *testing.T) {
	for in, want := range map[string]string{"@Ann_Films": "ann_films", "abc": "abc", "a-b-c-1": "a-b-c-1"} {
		if got, err := ValidateHandle(in); err != nil || got != want {
			t.Errorf("ValidateHandle(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"ab", "-abc", "has space", "ünï", "a/b/c", "abcdefghijabcdefghijabcdefghijx"} {
		if _, err := ValidateHandle(in); err == nil {
			t.Errorf("ValidateHandle(%q) accepted", in)
		}
	}
}

// TestNewServiceNeedsItsDependencies: the service is built whole or not at
// all, and the error names what is missing.
func TestNewServiceNeedsItsDependencies(t *testing.T) {
	full := Config{Store: struct{ Store }{}, Objects: struct{ objects.Store }{}, Views: struct{ ViewCounts }{}, MaxUploadBytes: 1}
	if _, err := NewService(full); err != nil {
		t.Fatalf("NewService with every dependency: %v", err)
	}
	for _, c := range []struct {
		drop func(*Config)
		want string
	}{
		{func(c *Config) { c.Store = nil }, "Config.Store"},
		{func(c *Config) { c.Objects = nil }, "Config.Objects"},
		{func(c *Config) { c.Views = nil }, "Config.Views"},
		{func(c *Config) { c.MaxUploadBytes = 0 }, "Config.MaxUploadBytes"},
	} {
		cfg := full
		c.drop(&cfg)
		if _, err := NewService(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewService without %s = %v, want an error naming it", c.want, err)
		}
	}
}
