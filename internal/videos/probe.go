package videos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/ucc-video/ucc/internal/errs"
)

// allowedDemuxers are the container formats UCC accepts. ffprobe and ffmpeg
// refuse any other demuxer (-format_whitelist), so playlists (HLS, concat)
// and image sequences can never make them read other files or URLs.
const allowedDemuxers = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,asf,ogg,mp3,wav,flac,aac"

// allowedDecoders are the decoders ffprobe and ffmpeg may open for an
// original (-codec_whitelist): the camera, phone, screen-recorder and
// editor codecs, and nothing of the long tail of rarely used, rarely
// fuzzed decoders FFmpeg also carries.
const allowedDecoders = "h264,hevc,vp8,vp9,av1,libdav1d,libaom-av1,mpeg4,msmpeg4v3,mpeg2video,mpeg1video,mjpeg,prores,dnxhd,theora,wmv3,vc1,flv,h263," +
	"aac,mp3,mp3float,mp2,mp2float,opus,libopus,vorbis,flac,alac,ac3,ac3_fixed,eac3,wmav2,pcm_s16le,pcm_s16be,pcm_s24le,pcm_s32le,pcm_f32le,pcm_u8,pcm_mulaw,pcm_alaw,pcm_s24be,pcm_f32be"

// Probe is what ffprobe found in a media file.
type Probe struct {
	Format     string  // demuxer, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
	Duration   float64 // seconds
	Width      int     // display width (after rotation), 0 without video
	Height     int     // display height (after rotation)
	VideoCodec string  // "" without a video stream
	AudioCodec string  // "" without an audio stream
	Streams    int     // streams of every kind in the file
	BitDepth   int     // bits per sample of the video, 0 when unknown
	// Frames is the video stream's packet count when the probe counted
	// them (-count_packets), else 0.
	Frames int64
}

// HasVideo reports whether the file has a (non-cover-art) video stream.
func (p Probe) HasVideo() bool { return p.VideoCodec != "" }

// HasAudio reports whether the file has an audio stream.
func (p Probe) HasAudio() bool { return p.AudioCodec != "" }

// Errors a creator sees when a file is refused.
var (
	ErrEmptyFile = errs.Invalid("empty_file", "the file is empty (0 bytes)")
	ErrNotMedia  = errs.New(errs.ErrUnsupported, "not_a_video", "this file is not a video or audio file UCC can read")
	ErrCorrupt   = errs.Invalid("corrupt_file", "the file looks like a video but is damaged or incomplete; export or upload it again")
	ErrNoStreams = errs.New(errs.ErrUnsupported, "unsupported_codec", "the file has no video or audio stream in a format UCC can decode")
)

type ffprobeOut struct {
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
	Streams []struct {
		CodecType   string            `json:"codec_type"`
		CodecName   string            `json:"codec_name"`
		PixFmt      string            `json:"pix_fmt"`
		RawBits     string            `json:"bits_per_raw_sample"`
		Packets     string            `json:"nb_read_packets"`
		Width       int               `json:"width"`
		Height      int               `json:"height"`
		Duration    string            `json:"duration"`
		Tags        map[string]string `json:"tags"`
		Disposition struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
		SideData []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
}

// ffprobe probes input (a local path or a URL allowed by protocols). A file
// ffprobe cannot read returns errProbeFailed; one without a decodable
// stream returns ErrNoStreams.
//
// With countFrames it also reads every packet (demuxing, not decoding) to
// count the video's frames, which a header cannot lie about.
func (pl *pipeline) ffprobe(ctx context.Context, input, protocols string, countFrames ...bool) (Probe, error) {
	limit := 2 * time.Minute
	args := []string{"-v", "error", "-hide_banner",
		"-format_whitelist", allowedDemuxers, "-protocol_whitelist", protocols, "-codec_whitelist", allowedDecoders}
	if len(countFrames) > 0 && countFrames[0] {
		args = append(args, "-count_packets")
		limit = 15 * time.Minute // reads the whole file (8 GiB at the default upload cap)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	args = append(args, "-show_format", "-show_streams", "-of", "json", input)
	cmd := pl.command(ctx, pl.ffprobeBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Probe{}, fmt.Errorf("%w: ffprobe: %w", errs.ErrUnavailable, ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return Probe{}, fmt.Errorf("%w: %s", errProbeFailed, strings.TrimSpace(lastLine(stderr.String())))
		}
		return Probe{}, fmt.Errorf("ffprobe: %w", err)
	}
	return parseProbe(stdout.Bytes())
}

var errProbeFailed = errors.New("ffprobe could not read the file")

func parseProbe(b []byte) (Probe, error) {
	var out ffprobeOut
	if err := json.Unmarshal(b, &out); err != nil {
		return Probe{}, fmt.Errorf("%w: bad ffprobe output: %v", errProbeFailed, err)
	}
	p := Probe{Format: out.Format.FormatName, Streams: len(out.Streams)}
	p.Duration, _ = strconv.ParseFloat(out.Format.Duration, 64)
	for _, s := range out.Streams {
		if s.CodecName == "" || s.CodecName == "none" {
			continue
		}
		switch s.CodecType {
		case "video":
			if p.VideoCodec != "" || s.Disposition.AttachedPic == 1 || s.Width <= 0 || s.Height <= 0 {
				continue // cover art is not a video
			}
			p.VideoCodec, p.Width, p.Height = s.CodecName, s.Width, s.Height
			p.BitDepth = bitDepth(s.PixFmt, s.RawBits)
			p.Frames, _ = strconv.ParseInt(s.Packets, 10, 64)
			rot := 0.0
			if r, err := strconv.ParseFloat(s.Tags["rotate"], 64); err == nil {
				rot = r
			}
			for _, sd := range s.SideData {
				if sd.Rotation != 0 {
					rot = sd.Rotation
				}
			}
			if r := int(math.Abs(math.Round(rot))) % 180; r == 90 {
				p.Width, p.Height = p.Height, p.Width
			}
			if p.Duration <= 0 {
				p.Duration, _ = strconv.ParseFloat(s.Duration, 64)
			}
		case "audio":
			if p.AudioCodec == "" {
				p.AudioCodec = s.CodecName
				if p.Duration <= 0 {
					p.Duration, _ = strconv.ParseFloat(s.Duration, 64)
				}
			}
		}
	}
	if !p.HasVideo() && !p.HasAudio() {
		return p, ErrNoStreams
	}
	if p.Duration <= 0 || math.IsNaN(p.Duration) || math.IsInf(p.Duration, 0) {
		return p, fmt.Errorf("%w: no duration", errProbeFailed)
	}
	return p, nil
}

// bitDepth is the bits per sample of a video stream: bits_per_raw_sample
// when ffprobe knows it, else read from the pixel format's name (yuv420p10le,
// rgb48be, gray16le); 8 for the ordinary formats, 0 when unknown.
func bitDepth(pixFmt, rawBits string) int {
	if n, err := strconv.Atoi(rawBits); err == nil && n > 0 {
		return n
	}
	if pixFmt == "" {
		return 0
	}
	f := strings.TrimSuffix(strings.TrimSuffix(pixFmt, "le"), "be")
	for _, c := range []struct {
		suffix string
		bits   int
	}{{"p9", 9}, {"p10", 10}, {"p12", 12}, {"p14", 14}, {"p16", 16}, {"48", 16}, {"64", 16}, {"gray16", 16}, {"gray10", 10}, {"gray12", 12}, {"f32", 32}} {
		if strings.HasSuffix(f, c.suffix) {
			return c.bits
		}
	}
	return 8
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// probeObject probes the stored object at key: through its local path on
// the fs driver, else through a short-lived presigned URL (ffprobe reads
// HTTP with Range requests, so only the parts it needs are fetched). A
// refused file gets the error a creator understands, and so does a file
// past one of the Limits: no job is enqueued for it.
func (s *Service) probeObject(ctx context.Context, key string, size int64) (Probe, error) {
	p, err := s.probeStored(ctx, key, size)
	if err != nil {
		return p, err
	}
	if err := s.limits.check(p, size); err != nil {
		s.log.InfoContext(ctx, "upload refused by a transcoding limit", "key", key, "err", err)
		return Probe{}, err
	}
	return p, nil
}

// probeStored is probeObject without the limits.
func (s *Service) probeStored(ctx context.Context, key string, size int64) (Probe, error) {
	if size == 0 {
		return Probe{}, ErrEmptyFile
	}
	input, protocols, err := s.probeInput(ctx, key)
	if err != nil {
		return Probe{}, err
	}
	p, err := s.pipeline.ffprobe(ctx, input, protocols)
	if !errors.Is(err, errProbeFailed) {
		return p, err
	}
	// ffprobe failing says nothing yet about the file: over HTTP, storage
	// going away while it read looks the same. Read the first bytes back
	// ourselves: storage that does not answer is an outage (503, the creator
	// retries), never a verdict on the file.
	media, herr := s.looksLikeMedia(ctx, key)
	if herr != nil {
		s.log.WarnContext(ctx, "upload not probed: storage did not answer", "key", key, "err", herr)
		if errors.Is(herr, errs.ErrUnavailable) {
			return Probe{}, herr
		}
		return Probe{}, fmt.Errorf("%w: read the upload back: %w", errs.ErrUnavailable, herr)
	}
	if !media {
		s.log.InfoContext(ctx, "upload refused by ffprobe", "key", key, "err", err)
		return Probe{}, ErrNotMedia
	}
	if protocols != "file" {
		// Starts like media and storage answers now: the first failure may
		// have been storage blinking mid-read, so probe once more before
		// calling the file damaged.
		if p, err = s.pipeline.ffprobe(ctx, input, protocols); !errors.Is(err, errProbeFailed) {
			return p, err
		}
	}
	s.log.InfoContext(ctx, "upload refused by ffprobe", "key", key, "err", err)
	return Probe{}, ErrCorrupt
}

// probeInput returns what ffprobe should open for key.
func (s *Service) probeInput(ctx context.Context, key string) (input, protocols string, err error) {
	if lp, ok := s.objs.(LocalPather); ok {
		path, err := lp.Path(key)
		return path, "file", err
	}
	u, err := s.objs.PresignGet(ctx, key, 15*time.Minute)
	if err != nil {
		return "", "", fmt.Errorf("presign for ffprobe: %w", err)
	}
	return u, "http,https,tcp,tls", nil
}

// looksLikeMedia reports whether the object starts like a media container
// (so a failed probe means a damaged file rather than a non-video). An
// error means storage could not be read.
func (s *Service) looksLikeMedia(ctx context.Context, key string) (bool, error) {
	rc, _, err := s.objs.Get(ctx, key, 0, 16)
	if err != nil {
		return false, err
	}
	defer rc.Close()
	var head [16]byte
	n, err := io.ReadFull(rc, head[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return false, err
	}
	return SniffMedia(head[:n]), nil
}

// SniffMedia reports whether b (a file's first bytes) starts like a known
// audio or video container.
func SniffMedia(b []byte) bool {
	has := func(off int, sig string) bool { return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig }
	switch {
	case has(4, "ftyp"), has(4, "moov"), has(4, "mdat"), has(4, "free"), has(4, "wide"), // MP4/MOV
		has(0, "\x1a\x45\xdf\xa3"), // Matroska/WebM
		has(0, "RIFF"), has(0, "OggS"), has(0, "FLV"), has(0, "ID3"), has(0, "fLaC"),
		has(0, "\x00\x00\x01\xba"),                 // MPEG-PS
		has(0, "\x30\x26\xb2\x75\x8e\x66\xcf\x11"): // ASF
		return true
	}
	return false
}
