package videos

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/objects"
)

// TranscodeQueue is the River queue transcoding jobs run on, apart from
// short jobs so a long encode never delays them.
const TranscodeQueue = "transcode"

// TranscodeArgs is the River job that turns a video's original into
// renditions and a thumbnail. It is enqueued in the transaction that
// creates the video row.
type TranscodeArgs struct {
	VideoID int64 `json:"video_id"`
}

// Kind names the job in River's table.
func (TranscodeArgs) Kind() string { return "videos.transcode" }

// InsertOpts puts the job on TranscodeQueue with 5 attempts (River's
// exponential backoff between them).
func (TranscodeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: TranscodeQueue, MaxAttempts: 5}
}

// TranscodeWorker runs TranscodeArgs.
type TranscodeWorker struct {
	river.WorkerDefaults[TranscodeArgs]
	Service *Service
}

// NewTranscodeWorker returns the worker for s (EnableCreator must have been called).
func NewTranscodeWorker(s *Service) *TranscodeWorker { return &TranscodeWorker{Service: s} }

// Timeout stops a runaway job after UCC_TRANSCODE_TIMEOUT; ffmpeg is killed
// with the job's context.
func (w *TranscodeWorker) Timeout(*river.Job[TranscodeArgs]) time.Duration {
	if w.Service.creator == nil {
		return time.Hour
	}
	return w.Service.creator.TranscodeTimeout
}

// Work processes the video. A permanent failure (the file cannot be
// decoded) marks the video failed and cancels the job; a transient one
// (storage, database) is retried with backoff, and the last attempt marks
// the video failed.
func (w *TranscodeWorker) Work(ctx context.Context, job *river.Job[TranscodeArgs]) error {
	c, err := w.Service.creatorDeps()
	if err != nil {
		return err
	}
	err = w.Service.Process(ctx, job.Args.VideoID)
	if err == nil {
		return nil
	}
	var perm *permanentError
	last := job.JobRow != nil && job.Attempt >= job.MaxAttempts
	switch {
	case errors.As(err, &perm):
		c.failVideo(ctx, job.Args.VideoID, perm.reason, err)
		return river.JobCancel(err)
	case last:
		reason := "processing failed repeatedly; delete the video and upload it again"
		if errors.Is(err, context.DeadlineExceeded) {
			reason = "processing took longer than the " + c.TranscodeTimeout.String() + " limit"
		}
		c.failVideo(ctx, job.Args.VideoID, reason, err)
	}
	return err
}

// permanentError is a failure retrying cannot fix.
type permanentError struct {
	reason string // shown to the creator
	err    error
}

func (e *permanentError) Error() string { return e.reason + ": " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// failVideo marks a video failed and removes partial outputs.
func (c *creator) failVideo(ctx context.Context, id int64, reason string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	c.Log.WarnContext(ctx, "video processing failed", "video_id", id, "reason", reason, "err", cause)
	if v, err := c.store.VideoByID(ctx, id); err == nil {
		c.cleanOutputs(ctx, v.PublicID)
	}
	if err := c.store.MarkFailed(ctx, id, reason); err != nil {
		c.Log.ErrorContext(ctx, "could not mark video failed", "video_id", id, "err", err)
	}
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

// renditionKey is where the rendition with short side n is stored.
func renditionKey(publicID string, n int) string {
	return fmt.Sprintf("videos/%s/r%d.mp4", publicID, n)
}

// autoThumbKey is where the generated thumbnail is stored; custom
// thumbnails use "thumb-<random>.<ext>" next to it.
func autoThumbKey(publicID string) string { return "videos/" + publicID + "/thumb.jpg" }

// isOutput reports whether key is a generated output (rendition or
// automatic thumbnail) that a re-run or a failure removes.
func isOutput(key string) bool {
	b := path.Base(key)
	return b == "thumb.jpg" || strings.HasPrefix(b, "r") && strings.HasSuffix(b, ".mp4")
}

// cleanOutputs deletes the generated outputs of a video (not its original
// or a custom thumbnail).
func (c *creator) cleanOutputs(ctx context.Context, publicID string) error {
	list, err := c.objs.List(ctx, ObjectPrefix(publicID))
	if err != nil {
		return err
	}
	for _, o := range list {
		if isOutput(o.Key) {
			if err := c.objs.Delete(ctx, o.Key); err != nil {
				return err
			}
		}
	}
	return nil
}

// Process transcodes a processing video into its renditions and thumbnail
// and marks it ready. It is idempotent: previous outputs are removed first
// and overwritten. A video that is gone or no longer processing is left alone.
func (s *Service) Process(ctx context.Context, videoID int64) error {
	c, err := s.creatorDeps()
	if err != nil {
		return err
	}
	v, err := c.store.VideoByID(ctx, videoID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if v.Status != StatusProcessing {
		return nil
	}
	if err := c.cleanOutputs(ctx, v.PublicID); err != nil {
		return fmt.Errorf("clean previous outputs: %w", err)
	}
	dir, release, err := c.newWorkDir()
	if err != nil {
		return err
	}
	defer release()

	src, err := c.localOriginal(ctx, v.OriginalKey, dir)
	if err != nil {
		return err
	}
	p, err := c.ffprobe(ctx, src, "file")
	if errors.Is(err, errProbeFailed) {
		return &permanentError{reason: "the file could not be read; it may be damaged", err: err}
	} else if errors.Is(err, ErrNoStreams) {
		return &permanentError{reason: "the file has no video or audio stream UCC can decode", err: err}
	} else if err != nil {
		return err
	}
	if err := c.store.SetProbed(ctx, v.ID, p.Duration, p.Width, p.Height); err != nil {
		return err
	}

	thumb := filepath.Join(dir, "thumb.jpg")
	if err := c.thumbnail(ctx, src, thumb, p); err != nil {
		return err
	}
	outs, err := c.encode(ctx, v.ID, src, thumb, dir, p)
	if err != nil {
		return err
	}

	// Upload outputs, then commit them in one transaction.
	var rs []Rendition
	var keys []string
	fail := func(err error) error {
		for _, k := range keys {
			c.deleteQuietly(ctx, k)
		}
		return err
	}
	for _, o := range outs {
		key := renditionKey(v.PublicID, o.short)
		info, err := c.putFile(ctx, key, o.path, "video/mp4")
		keys = append(keys, key)
		if err != nil {
			return fail(err)
		}
		op, err := c.ffprobe(ctx, o.path, "file")
		if err != nil {
			return fail(&permanentError{reason: "an encoded rendition could not be read back", err: err})
		}
		br := 0
		if p.Duration > 0 {
			br = int(float64(info.Size*8) / p.Duration)
		}
		rs = append(rs, Rendition{Height: op.Height, Width: op.Width, Key: key, Size: info.Size, Bitrate: br})
	}
	tkey := autoThumbKey(v.PublicID)
	keys = append(keys, tkey)
	if _, err := c.putFile(ctx, tkey, thumb, "image/jpeg"); err != nil {
		return fail(err)
	}
	err = c.store.FinishProcessing(ctx, v.ID, rs, tkey, s.now())
	if errors.Is(err, errs.ErrNotFound) {
		// Deleted (or failed) while we worked: our outputs must not linger.
		return fail(nil)
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// localOriginal returns a local path of the original: the file itself on
// the fs driver, else a download into dir (removed by the caller).
func (c *creator) localOriginal(ctx context.Context, key, dir string) (string, error) {
	if lp, ok := c.objs.(LocalPather); ok {
		p, err := lp.Path(key)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(p); err != nil {
			return "", &permanentError{reason: "the uploaded file is missing from storage", err: err}
		}
		return p, nil
	}
	rc, _, err := c.objs.Get(ctx, key, 0, -1)
	if errors.Is(err, objects.ErrNotFound) {
		return "", &permanentError{reason: "the uploaded file is missing from storage", err: err}
	} else if err != nil {
		return "", fmt.Errorf("download original: %w", err)
	}
	defer rc.Close()
	dst := filepath.Join(dir, "original")
	f, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return "", fmt.Errorf("download original: %w", err)
	}
	return dst, f.Close()
}

func (c *creator) putFile(ctx context.Context, key, file, ctype string) (objects.Info, error) {
	f, err := os.Open(file)
	if err != nil {
		return objects.Info{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return objects.Info{}, err
	}
	return c.objs.Put(ctx, key, f, st.Size(), objects.PutOptions{ContentType: ctype})
}

// inputArgs are the ffmpeg options that open an original safely.
func inputArgs(src string) []string {
	return []string{"-format_whitelist", allowedDemuxers, "-protocol_whitelist", "file", "-i", src}
}

// thumbnail writes a JPEG: a frame 10% into a video, or the waveform of an
// audio-only file.
func (c *creator) thumbnail(ctx context.Context, src, dst string, p Probe) error {
	if !p.HasVideo() {
		args := append([]string{"-hide_banner", "-nostdin", "-y", "-v", "error"}, inputArgs(src)...)
		args = append(args, "-filter_complex", "[0:a:0]showwavespic=s=640x360:colors=0x3ea6ff", "-frames:v", "1", "-q:v", "3", dst)
		return c.runFFmpeg(ctx, args, nil)
	}
	for _, at := range []float64{p.Duration * 0.1, 0} {
		args := []string{"-hide_banner", "-nostdin", "-y", "-v", "error", "-ss", strconv.FormatFloat(at, 'f', 3, 64)}
		args = append(args, inputArgs(src)...)
		args = append(args, "-map", "0:v:0", "-frames:v", "1", "-vf", "scale='min(1280,iw)':-2", "-q:v", "3", dst)
		if err := c.runFFmpeg(ctx, args, nil); err != nil {
			return err
		}
		if st, err := os.Stat(dst); err == nil && st.Size() > 0 {
			return nil
		}
	}
	return &permanentError{reason: "no frame of the video could be decoded", err: errors.New("empty thumbnail")}
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
// (H.264 High/AAC MP4, faststart), reporting progress into the video row.
// Videos scale by their short side (a portrait 1080x1920 source is "1080p"),
// never up. Audio-only sources get one 640x360 rendition whose picture is
// the waveform thumbnail; sources without audio get video-only renditions.
func (c *creator) encode(ctx context.Context, videoID int64, src, thumb, dir string, p Probe) ([]output, error) {
	common := []string{"-c:v", "libx264", "-preset", c.Preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
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
			args = append(args, "-crf", "23", "-maxrate", maxrate(n), "-bufsize", maxrate(n), "-fpsmax", "60")
			args = append(args, common...)
			args = append(args, o.path)
			outs = append(outs, o)
		}
	}
	last := -1
	progress := func(outTime time.Duration) {
		if p.Duration <= 0 {
			return
		}
		pct := int(outTime.Seconds() * 100 / p.Duration)
		pct = max(0, min(pct, 99))
		if pct != last {
			last = pct
			if err := c.store.SetProgress(ctx, videoID, pct); err != nil {
				c.Log.WarnContext(ctx, "could not record progress", "video_id", videoID, "err", err)
			}
		}
	}
	if err := c.runFFmpeg(ctx, args, progress); err != nil {
		return nil, err
	}
	return outs, nil
}

// runFFmpeg runs ffmpeg with args, feeding -progress output to progress
// (when not nil). A failure while ctx is alive is permanent (ffmpeg could not
// decode or encode the file); one caused by ctx (timeout, shutdown) is not.
func (c *creator) runFFmpeg(ctx context.Context, args []string, progress func(time.Duration)) error {
	cmd := exec.CommandContext(ctx, c.FFmpeg, args...)
	cmd.SysProcAttr = childAttr()
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
		reason: "the video could not be converted; it may be damaged or use a codec UCC cannot decode",
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
