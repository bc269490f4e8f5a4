package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/ucc-video/ucc/internal/testenv"
)

// writeUploadFile writes a video of about size bytes to path: a two-second
// MPEG-TS clip made by ffmpeg, repeated (MPEG-TS is a stream of 188-byte
// packets, so copies one after another still make a file ffprobe reads),
// cut to a whole number of packets. It returns the file's size.
func writeUploadFile(ctx context.Context, dir string, size int64) (string, int64, error) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return "", 0, notAvailable("ffmpeg is not on PATH (the upload is probed with ffprobe, so it must be a real video)")
	}
	clipPath := filepath.Join(dir, "clip.ts")
	cmd := exec.CommandContext(ctx, ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8M", "-pix_fmt", "yuv420p", "-f", "mpegts", clipPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", 0, fmt.Errorf("ffmpeg: %v: %s", err, oneLine(out, 300))
	}
	clip, err := os.ReadFile(clipPath)
	os.Remove(clipPath)
	if err != nil {
		return "", 0, err
	}
	const packet = 188
	size -= size % packet
	path := filepath.Join(dir, "upload.ts")
	f, err := os.Create(path)
	if err != nil {
		return "", 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for left := size; left > 0; {
		n := min(int64(len(clip)), left)
		if _, err := w.Write(clip[:n]); err != nil {
			f.Close()
			return "", 0, err
		}
		left -= n
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", 0, err
	}
	return path, size, f.Close()
}

func (b *bench) uploadRow(ctx context.Context) (row, error) {
	if b.bucket == "" {
		return row{}, notAvailable("no MinIO: run under `go run ./cmd/testenv --` (make bench does)")
	}
	req, _ := http.NewRequest(http.MethodPost, b.uccURL+"/api/v1/videos", nil)
	req.Header.Set("Authorization", "Bearer "+b.cat.CreatorToken)
	if err := b.probe(ctx, req, 0, "the upload feature"); err != nil {
		return row{}, err
	}
	path, size, err := writeUploadFile(ctx, b.tmp, b.opts.Size.UploadBytes)
	if err != nil {
		return row{}, err
	}
	defer os.Remove(path)
	mc, err := b.svc.S3.Client()
	if err != nil {
		return row{}, err
	}
	mbps := figure{Name: "MB/s", Unit: unitMBps, Base: samples{}}
	rss := figure{Name: "peak RSS of ucc", Unit: unitMiB}
	client := newClient(1)
	for i := range b.opts.Size.Runs {
		// Baseline: minio-go PutObject of the same file, from this process.
		f, err := os.Open(path)
		if err != nil {
			return row{}, err
		}
		t0 := time.Now()
		_, err = mc.PutObject(ctx, b.bucket, fmt.Sprintf("bench/baseline-%d", i), f, size, minio.PutObjectOptions{ContentType: "video/mp2t"})
		d := time.Since(t0)
		f.Close()
		if err != nil {
			return row{}, fmt.Errorf("baseline PutObject: %w", err)
		}
		mbps.Base = append(mbps.Base, float64(size)/d.Seconds()/1e6)
		_ = mc.RemoveObject(ctx, b.bucket, fmt.Sprintf("bench/baseline-%d", i), minio.RemoveObjectOptions{})

		// UCC: the simple multipart upload, streamed from the file.
		if err := resetPeakRSS(b.ucc.Process().Pid()); err != nil {
			return row{}, fmt.Errorf("reset peak RSS of ucc: %w", err)
		}
		before, _ := procStatusKB(b.ucc.Process().Pid(), "VmRSS")
		t0 = time.Now()
		id, err := b.uploadOnce(ctx, client, path, fmt.Sprintf("Bench upload %d", i+1))
		d = time.Since(t0)
		if err != nil {
			return row{}, err
		}
		peak, err := procStatusKB(b.ucc.Process().Pid(), "VmHWM")
		if err != nil {
			return row{}, err
		}
		b.verbosef("  upload run %d: %s in %s (%.0f MB/s), ucc RSS %d→%d KiB (peak); baseline %.0f MB/s",
			i+1, formatBytes(size), d.Round(time.Millisecond), float64(size)/d.Seconds()/1e6, before, peak, mbps.Base[i])
		mbps.UCC = append(mbps.UCC, float64(size)/d.Seconds()/1e6)
		rss.UCC = append(rss.UCC, float64(peak)/1024)
		b.deleteVideo(ctx, client, id)
	}
	return row{
		Figures: []figure{mbps, rss},
		Notes:   []string{fmt.Sprintf("one %s MPEG-TS file (a 2 s ffmpeg clip repeated); UCC streams it as multipart/form-data over one connection, the baseline is minio-go PutObject (its default multipart upload, parallel parts) from the bench process; peak RSS is VmHWM of the ucc process, reset before each upload", formatBytes(size))},
	}, nil
}

// uploadOnce posts the file as multipart/form-data (fields title, file) and
// returns the new video's id.
func (b *bench) uploadOnce(ctx context.Context, client *http.Client, path, title string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("title", title); err != nil {
				return err
			}
			part, err := mw.CreateFormFile("file", "bench.ts")
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, f); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.uccURL+"/api/v1/videos", pr)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+b.cat.CreatorToken)
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("upload: HTTP %d: %s", resp.StatusCode, oneLine(body, 300))
	}
	id, _ := testenv.DecodeVideoID(body) // no id: nothing to delete afterwards
	return id, nil
}

// deleteVideo removes an uploaded video (so that its processing job does
// not compete with the next rows); failures are only logged.
func (b *bench) deleteVideo(ctx context.Context, client *http.Client, id string) {
	if id == "" {
		return
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, b.uccURL+"/api/v1/videos/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+b.cat.CreatorToken)
	n, status, err := do(client, req)
	_ = n
	if err != nil || status >= 300 {
		b.verbosef("  delete video %s: HTTP %d %v", id, status, err)
	}
}
