package videos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/ucc-video/ucc/internal/bytesize"
	"github.com/ucc-video/ucc/internal/errs"
	"github.com/ucc-video/ucc/internal/objects"
)

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
func (s *Service) cleanOutputs(ctx context.Context, publicID string) error {
	list, err := s.objs.List(ctx, ObjectPrefix(publicID))
	if err != nil {
		return err
	}
	for _, o := range list {
		if isOutput(o.Key) {
			if err := s.objs.Delete(ctx, o.Key); err != nil {
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
	v, err := s.store.VideoByID(ctx, videoID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if v.Status != StatusProcessing {
		return nil
	}
	if err := s.cleanOutputs(ctx, v.PublicID); err != nil {
		return fmt.Errorf("clean previous outputs: %w", err)
	}
	dir, release, err := s.pipeline.newWorkDir()
	if err != nil {
		return err
	}
	defer release()

	src, err := s.localOriginal(ctx, v.OriginalKey, dir)
	if err != nil {
		return err
	}
	p, err := s.pipeline.ffprobe(ctx, src, "file", true)
	if errors.Is(err, errProbeFailed) {
		return &permanentError{reason: "the file could not be read; it may be damaged", err: err}
	} else if errors.Is(err, ErrNoStreams) {
		return &permanentError{reason: "the file has no video or audio stream UCC can decode", err: err}
	} else if err != nil {
		return err
	}
	// The limits again, now with the frames counted: no decoding starts
	// for a file past one.
	if err := s.limits.check(p, v.OriginalSize); err != nil {
		return &permanentError{reason: err.Error(), err: err}
	}
	if err := s.store.SetProbed(ctx, v.ID, p.Duration, p.Width, p.Height); err != nil {
		return err
	}

	thumb := filepath.Join(dir, "thumb.jpg")
	if err := s.pipeline.thumbnail(ctx, src, thumb, p); err != nil {
		return err
	}
	outs, err := s.pipeline.encode(ctx, src, thumb, dir, p, s.progressOf(ctx, v.ID))
	if err != nil {
		return err
	}

	// Read the renditions back: their duration, not the original's header
	// (which the uploader wrote and may have patched), is the video's: it
	// sets the minimum watch time and the play tokens' lifetime.
	probes := make([]Probe, len(outs))
	duration := 0.0
	for i, o := range outs {
		op, err := s.pipeline.ffprobe(ctx, o.path, "file")
		if errors.Is(err, errProbeFailed) || errors.Is(err, ErrNoStreams) {
			return &permanentError{reason: errUnconvertible.Error(), err: fmt.Errorf("an encoded rendition could not be read back: %w", err)}
		} else if err != nil {
			return err // the job's time ran out or ffprobe could not start: not the file's fault
		}
		probes[i] = op
		duration = max(duration, op.Duration)
	}
	if duration != p.Duration {
		if err := s.store.SetProbed(ctx, v.ID, duration, p.Width, p.Height); err != nil {
			return err
		}
	}

	// Upload outputs, then commit them in one transaction.
	var rs []Rendition
	var keys []string
	fail := func(err error) error {
		for _, k := range keys {
			s.deleteQuietly(ctx, k)
		}
		return err
	}
	for i, o := range outs {
		key := renditionKey(v.PublicID, o.short)
		info, err := s.putFile(ctx, key, o.path, "video/mp4")
		keys = append(keys, key)
		if err != nil {
			return fail(err)
		}
		br := 0
		if duration > 0 {
			br = int(float64(info.Size*8) / duration)
		}
		rs = append(rs, Rendition{Height: probes[i].Height, Width: probes[i].Width, Key: key, Size: info.Size, Bitrate: br})
	}
	tkey := autoThumbKey(v.PublicID)
	keys = append(keys, tkey)
	if _, err := s.putFile(ctx, tkey, thumb, "image/jpeg"); err != nil {
		return fail(err)
	}
	err = s.store.FinishProcessing(ctx, v.ID, rs, tkey, s.now())
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
func (s *Service) localOriginal(ctx context.Context, key, dir string) (string, error) {
	if lp, ok := s.objs.(LocalPather); ok {
		p, err := lp.Path(key)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(p); err != nil {
			return "", &permanentError{reason: "the uploaded file is missing from storage", err: err}
		}
		return p, nil
	}
	info, err := s.objs.Stat(ctx, key)
	if errors.Is(err, objects.ErrNotFound) {
		return "", &permanentError{reason: "the uploaded file is missing from storage", err: err}
	} else if err != nil {
		return "", fmt.Errorf("stat original: %w", err)
	}
	// The original, its renditions (never larger than it with our bitrate
	// caps, in practice far smaller) and the margin must fit.
	if free, err := freeBytes(dir); err == nil && free < 2*info.Size+s.limits.MinFreeBytes {
		return "", fmt.Errorf("%w: %s free in %s, %s needed", errNoDisk, bytesize.Format(free), dir, bytesize.Format(2*info.Size+s.limits.MinFreeBytes))
	}
	rc, _, err := s.objs.Get(ctx, key, 0, -1)
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

func (s *Service) putFile(ctx context.Context, key, file, ctype string) (objects.Info, error) {
	f, err := os.Open(file)
	if err != nil {
		return objects.Info{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return objects.Info{}, err
	}
	return s.objs.Put(ctx, key, f, st.Size(), objects.PutOptions{ContentType: ctype})
}

// progressOf records transcoding progress of video id; a failure to record
// it is logged, never fatal.
func (s *Service) progressOf(ctx context.Context, id int64) func(pct int) {
	return func(pct int) {
		if err := s.store.SetProgress(ctx, id, pct); err != nil {
			s.log.WarnContext(ctx, "could not record progress", "video_id", id, "err", err)
		}
	}
}
