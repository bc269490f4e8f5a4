package videos

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pipeline is the media toolchain processing runs: ffmpeg and ffprobe, the
// x264 preset and the directory jobs work in. It encodes and probes local
// files; the Service moves the bytes between it and object storage.
type pipeline struct {
	ffmpegBin, ffprobeBin string
	preset                string
	tempDir               string // "" = os.TempDir()
	log                   *slog.Logger
}

// newPipeline returns the pipeline with defaults for empty settings:
// ffmpeg and ffprobe on PATH, the veryfast preset.
func newPipeline(ffmpeg, ffprobe, preset, tempDir string, log *slog.Logger) *pipeline {
	if ffmpeg == "" {
		ffmpeg = "ffmpeg"
	}
	if ffprobe == "" {
		ffprobe = "ffprobe"
	}
	if preset == "" {
		preset = "veryfast"
	}
	return &pipeline{ffmpegBin: ffmpeg, ffprobeBin: ffprobe, preset: preset, tempDir: tempDir, log: log}
}

// Ladder returns the short-side sizes to encode for a source whose short
// side is short: 360, 720 and 1080 when the source has them, never
// upscaling; a source between rungs also gets a rendition at its own size
// when that is at least 25% more than the rung below (480 → 360 and 480), and
// a source below 360 gets one rendition at its own (even) size.
func Ladder(short int) []int {
	var out []int
	for _, r := range []int{360, 720, 1080} {
		if short >= r {
			out = append(out, r)
			continue
		}
		if e := short &^ 1; e > 0 && (len(out) == 0 || e*4 >= out[len(out)-1]*5) {
			out = append(out, e)
		}
		break
	}
	return out
}

// inputArgs are the ffmpeg options that open an original safely: only the
// accepted containers and decoders, only local files.
func inputArgs(src string) []string {
	return []string{"-format_whitelist", allowedDemuxers, "-protocol_whitelist", "file", "-codec_whitelist", allowedDecoders, "-i", src}
}

// command is an ffmpeg or ffprobe process: an empty environment (it must
// not inherit the database URL, the S3 keys or UCC_SECRET_KEY that a
// crafted file exploiting a decoder could read), killed with ctx and with
// UCC.
func (pl *pipeline) command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{}
	cmd.SysProcAttr = childAttr()
	return cmd
}

// thumbnail writes a JPEG: a frame 10% into a video, or the waveform of an
// audio-only file.
func (pl *pipeline) thumbnail(ctx context.Context, src, dst string, p Probe) error {
	if !p.HasVideo() {
		args := append([]string{"-hide_banner", "-nostdin", "-y", "-v", "error"}, inputArgs(src)...)
		args = append(args, "-filter_complex", "[0:a:0]showwavespic=s=640x360:colors=0x3ea6ff", "-frames:v", "1", "-q:v", "3", dst)
		return pl.runFFmpeg(ctx, args, nil)
	}
	for _, at := range []float64{p.Duration * 0.1, 0} {
		args := []string{"-hide_banner", "-nostdin", "-y", "-v", "error", "-ss", strconv.FormatFloat(at, 'f', 3, 64)}
		args = append(args, inputArgs(src)...)
		args = append(args, "-map", "0:v:0", "-frames:v", "1", "-vf", "scale='min(1280,iw)':-2", "-q:v", "3", dst)
		if err := pl.runFFmpeg(ctx, args, nil); err != nil {
			return err
		}
		if st, err := os.Stat(dst); err == nil && st.Size() > 0 {
			return nil
		}
	}
	return &permanentError{reason: errNoFrame.Error(), err: errors.New("empty thumbnail")}
}

type output struct {
	short int
	path  string
}

// maxrate caps the bitrate of a rendition by its short side.
func maxrate(short int) string {
	switch {
	case short <= 360:
		return "1000k"
	case short <= 720:
		return "2800k"
	}
	return "5500k"
}

// encode runs one ffmpeg that decodes once and writes every rendition
// (H.264 High/AAC MP4, faststart), reporting progress (0-99) to progress.
// Videos scale by their short side (a portrait 1080x1920 source is "1080p"),
// never up. Audio-only sources get one 640x360 rendition whose picture is
// the waveform thumbnail; sources without audio get video-only renditions.
func (pl *pipeline) encode(ctx context.Context, src, thumb, dir string, p Probe, progress func(pct int)) ([]output, error) {
	common := []string{"-c:v", "libx264", "-preset", pl.preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
		"-movflags", "+faststart", "-map_metadata", "-1", "-sn", "-dn"}
	audio := []string{"-c:a", "aac", "-b:a", "128k", "-ac", "2"}
	args := []string{"-hide_banner", "-nostdin", "-y", "-v", "error", "-progress", "pipe:1", "-nostats"}
	var outs []output
	if !p.HasVideo() {
		o := output{short: 360, path: filepath.Join(dir, "r360.mp4")}
		args = append(args, "-loop", "1", "-framerate", "2", "-i", thumb)
		args = append(args, inputArgs(src)...)
		args = append(args, "-map", "0:v", "-map", "1:a:0", "-vf", "scale=640:360,format=yuv420p", "-tune", "stillimage", "-crf", "30")
		args = append(args, common...)
		args = append(args, audio...)
		args = append(args, "-t", strconv.FormatFloat(p.Duration, 'f', 3, 64), "-shortest", o.path)
		outs = append(outs, o)
	} else {
		short, portrait := p.Height, false
		if p.Width < p.Height {
			short, portrait = p.Width, true
		}
		ladder := Ladder(short)
		args = append(args, inputArgs(src)...)
		var fc strings.Builder
		fc.WriteString("[0:v:0]")
		if len(ladder) > 1 {
			fmt.Fprintf(&fc, "split=%d", len(ladder))
			for i := range ladder {
				fmt.Fprintf(&fc, "[s%d]", i)
			}
			fc.WriteString(";")
		} else {
			fc.WriteString("null[s0];")
		}
		for i, n := range ladder {
			scale := fmt.Sprintf("scale=-2:%d", n)
			if portrait {
				scale = fmt.Sprintf("scale=%d:-2", n)
			}
			fmt.Fprintf(&fc, "[s%d]%s,format=yuv420p[o%d]", i, scale, i)
			if i < len(ladder)-1 {
				fc.WriteString(";")
			}
		}
		args = append(args, "-filter_complex", fc.String())
		for i, n := range ladder {
			o := output{short: n, path: filepath.Join(dir, fmt.Sprintf("r%d.mp4", n))}
			args = append(args, "-map", fmt.Sprintf("[o%d]", i))
			if p.HasAudio() {
				args = append(args, "-map", "0:a:0")
				args = append(args, audio...)
			} else {
				args = append(args, "-an")
			}
			// Variable frame rate: each decoded frame is written once (at
			// most 60 a second), never duplicated to fill a gap between
			// timestamps, so two frames ten hours apart stay two frames.
			args = append(args, "-crf", "23", "-maxrate", maxrate(n), "-bufsize", maxrate(n), "-fpsmax", "60", "-fps_mode", "vfr")
			args = append(args, common...)
			args = append(args, o.path)
			outs = append(outs, o)
		}
	}
	last := -1
	onTime := func(outTime time.Duration) {
		if p.Duration <= 0 {
			return
		}
		pct := int(outTime.Seconds() * 100 / p.Duration)
		pct = max(0, min(pct, 99))
		if pct != last {
			last = pct
			progress(pct)
		}
	}
	if err := pl.runFFmpeg(ctx, args, onTime); err != nil {
		return nil, err
	}
	return outs, nil
}

// runFFmpeg runs ffmpeg with args, feeding -progress output to progress
// (when not nil). A failure while ctx is alive is permanent (ffmpeg could not
// decode or encode the file); one caused by ctx (timeout, shutdown) is not.
func (pl *pipeline) runFFmpeg(ctx context.Context, args []string, progress func(time.Duration)) error {
	cmd := pl.command(ctx, pl.ffmpegBin, args...)
	cmd.WaitDelay = 10 * time.Second
	var stderr tailBuffer
	cmd.Stderr = &stderr
	var stdout io.ReadCloser
	var err error
	if progress != nil {
		if stdout, err = cmd.StdoutPipe(); err != nil {
			return err
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ffmpeg: %w", err)
	}
	if stdout != nil {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if !ok || (k != "out_time_us" && k != "out_time_ms") {
				continue
			}
			if us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				progress(time.Duration(us) * time.Microsecond)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}
	err = cmd.Wait()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("ffmpeg stopped: %w", ctx.Err())
	}
	return &permanentError{
		reason: errUnconvertible.Error(),
		err:    fmt.Errorf("ffmpeg: %w: %s", err, strings.TrimSpace(stderr.String())),
	}
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b.Write(p)
	if t.b.Len() > 4096 {
		rest := t.b.Bytes()[t.b.Len()-4096:]
		t.b = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return t.b.String() }
