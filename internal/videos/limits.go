package videos

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ucc-video/ucc/internal/bytesize"
	"github.com/ucc-video/ucc/internal/errs"
)

// Limits bound the work one uploaded file can cause, checked before any
// decoding starts (at upload, from ffprobe; again when the job starts, with
// the frames counted). Zero fields take the defaults of DefaultLimits.
type Limits struct {
	// MaxPixels caps width×height of the video (UCC_TRANSCODE_MAX_PIXELS).
	MaxPixels int64
	// MaxFrames caps the video frames of a file (UCC_TRANSCODE_MAX_FRAMES).
	MaxFrames int64
	// MaxDuration caps the length of a file (UCC_TRANSCODE_MAX_DURATION).
	MaxDuration time.Duration
	// MinBytesPerSecond is the least average size per second of the file:
	// a 7 KB file claiming ten hours is a bomb, not a video
	// (UCC_TRANSCODE_MIN_BYTES_PER_SECOND).
	MinBytesPerSecond int64
	// MaxStreams caps the streams of a file (UCC_TRANSCODE_MAX_STREAMS).
	MaxStreams int
	// MaxBitDepth caps the bits per sample of the video (UCC_TRANSCODE_MAX_BIT_DEPTH).
	MaxBitDepth int
	// PerCreator is how many transcoding jobs of one creator run at once,
	// across every worker (UCC_TRANSCODE_PER_CREATOR); the rest wait.
	PerCreator int
	// MinFreeBytes is the disk space a job leaves free in its working
	// directory beyond the original it downloads (UCC_TRANSCODE_MIN_FREE_BYTES).
	MinFreeBytes int64
	// ImageMaxDecodeBytes caps the memory a decoded thumbnail may take
	// (UCC_IMAGE_MAX_DECODE_BYTES).
	ImageMaxDecodeBytes int64
	// ImageDecoders is how many images a process decodes at once
	// (UCC_IMAGE_DECODERS).
	ImageDecoders int
}

// DefaultLimits are the limits UCC ships with.
var DefaultLimits = Limits{
	MaxPixels:           4096 * 2304, // 4K in either orientation
	MaxFrames:           12 * 3600 * 60,
	MaxDuration:         12 * time.Hour,
	MinBytesPerSecond:   100,
	MaxStreams:          16,
	MaxBitDepth:         12,
	PerCreator:          2,
	MinFreeBytes:        2 << 30,
	ImageMaxDecodeBytes: 64 << 20,
	ImageDecoders:       2,
}

// withDefaults fills zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v, def int64) int64 {
		if v > 0 {
			return v
		}
		return def
	}
	l.MaxPixels = pick(l.MaxPixels, d.MaxPixels)
	l.MaxFrames = pick(l.MaxFrames, d.MaxFrames)
	l.MaxDuration = time.Duration(pick(int64(l.MaxDuration), int64(d.MaxDuration)))
	l.MinBytesPerSecond = pick(l.MinBytesPerSecond, d.MinBytesPerSecond)
	l.MaxStreams = int(pick(int64(l.MaxStreams), int64(d.MaxStreams)))
	l.MaxBitDepth = int(pick(int64(l.MaxBitDepth), int64(d.MaxBitDepth)))
	l.PerCreator = int(pick(int64(l.PerCreator), int64(d.PerCreator)))
	l.MinFreeBytes = pick(l.MinFreeBytes, d.MinFreeBytes)
	l.ImageMaxDecodeBytes = pick(l.ImageMaxDecodeBytes, d.ImageMaxDecodeBytes)
	l.ImageDecoders = int(pick(int64(l.ImageDecoders), int64(d.ImageDecoders)))
	return l
}

// check refuses a file of size bytes whose probe passes a limit, with the
// reason the creator reads.
func (l Limits) check(p Probe, size int64) error {
	if p.HasVideo() && int64(p.Width)*int64(p.Height) > l.MaxPixels {
		return errTooManyPixels(fmt.Sprintf("%d×%d", p.Width, p.Height), strconv.FormatInt(l.MaxPixels, 10))
	}
	if p.Streams > l.MaxStreams {
		return errTooManyStreams(strconv.Itoa(p.Streams), strconv.Itoa(l.MaxStreams))
	}
	if p.HasVideo() && p.BitDepth > l.MaxBitDepth {
		return errBitDepth(strconv.Itoa(p.BitDepth), strconv.Itoa(l.MaxBitDepth))
	}
	if d := time.Duration(p.Duration * float64(time.Second)); d > l.MaxDuration {
		return errTooLong(d.Round(time.Second).String(), l.MaxDuration.String())
	}
	if size > 0 && p.Duration > 0 && float64(size)/p.Duration < float64(l.MinBytesPerSecond) {
		return errTooSparse(bytesize.Format(size), time.Duration(p.Duration*float64(time.Second)).Round(time.Second).String())
	}
	if p.Frames > l.MaxFrames {
		return errTooManyFrames(strconv.FormatInt(p.Frames, 10), strconv.FormatInt(l.MaxFrames, 10))
	}
	return nil
}

// The refusals of Limits.check. Each takes its parameters as text, so that
// Failure can read a stored reason back into its error.
func errTooManyPixels(size, limit string) error {
	return errs.NewVariant(errs.ErrTooLarge, "media_limit", "pixels", "the picture is %s, more than the %s pixels UCC converts", errs.P("Size", size), errs.P("Limit", limit))
}

func errTooManyStreams(n, limit string) error {
	return errs.NewVariant(errs.ErrTooLarge, "media_limit", "streams", "the file has %s streams, more than the %s UCC accepts", errs.P("Count", n), errs.P("Limit", limit))
}

func errBitDepth(bits, limit string) error {
	return errs.NewVariant(errs.ErrTooLarge, "media_limit", "bit_depth", "the video has %s bits per sample, more than the %s UCC converts", errs.P("Bits", bits), errs.P("Limit", limit))
}

func errTooLong(d, limit string) error {
	return errs.NewVariant(errs.ErrTooLarge, "media_limit", "duration", "the file is %s long, longer than the %s UCC accepts", errs.P("Duration", d), errs.P("Limit", limit))
}

func errTooSparse(size, d string) error {
	return errs.NewVariant(errs.ErrTooLarge, "media_limit", "sparse", "the file is only %s but claims to last %s; it is not a video UCC converts", errs.P("Size", size), errs.P("Duration", d))
}

func errTooManyFrames(n, limit string) error {
	return errs.NewVariant(errs.ErrTooLarge, "media_limit", "frames", "the video has %s frames, more than the %s UCC converts", errs.P("Count", n), errs.P("Limit", limit))
}

// limitErrors are the refusals whose stored reason Failure reads back.
var limitErrors = []func(a, b string) error{errTooManyPixels, errTooManyStreams, errBitDepth, errTooLong, errTooSparse, errTooManyFrames}

// parseLimitError returns the error of limitErrors whose text reason is.
func parseLimitError(reason string) (error, bool) {
	const markA, markB = "\x00A\x00", "\x00B\x00"
	for _, f := range limitErrors {
		tmpl := f(markA, markB).Error()
		ia, ib := strings.Index(tmpl, markA), strings.Index(tmpl, markB)
		if ia < 0 || ib < ia {
			continue
		}
		pre, mid, post := tmpl[:ia], tmpl[ia+len(markA):ib], tmpl[ib+len(markB):]
		rest, ok := strings.CutPrefix(reason, pre)
		if !ok {
			continue
		}
		if rest, ok = strings.CutSuffix(rest, post); !ok {
			continue
		}
		a, b, ok := strings.Cut(rest, mid)
		if !ok || a == "" || b == "" {
			continue
		}
		return f(a, b), true
	}
	return nil, false
}
