package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BrowserUserAgent is an ordinary browser's User-Agent: UCC does not count
// views of clients that look like bots.
const BrowserUserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"

// TestPassword is the password of the users SignUp makes.
const TestPassword = "correct horse battery"

// Client talks to a ucc server over HTTP as one user (with Token) or
// anonymously. It does not follow redirects.
//
// Everything that knows the shape of an API answer is in this file
// (SignUp, LogIn, CreateChannel, Upload and the Decode functions), so that a
// change of the API's envelope is made here once.
type Client struct {
	Base  string // the server's root URL
	Token string // API token sent as a Bearer, when set
	HTTP  *http.Client
}

// NewClient returns an anonymous client of the server at base, with a 30 s
// timeout per request.
func NewClient(base string) *Client {
	return &Client{Base: base, HTTP: &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Reply is one HTTP answer.
type Reply struct {
	Status int
	Body   []byte
	Header http.Header
	Took   time.Duration // from sending to the end of the answer (or the error)
}

// Request builds a request; body may be nil, a []byte or string, an
// io.Reader or a value sent as JSON, and hdr are header names and values
// in pairs.
func (c *Client) Request(method, path string, body any, hdr ...string) (*http.Request, error) {
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	case io.Reader:
		rd = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("User-Agent", BrowserUserAgent)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return req, nil
}

// Do sends a request (see Request) and reads the whole answer.
func (c *Client) Do(method, path string, body any, hdr ...string) (Reply, error) {
	req, err := c.Request(method, path, body, hdr...)
	if err != nil {
		return Reply{}, err
	}
	start := time.Now()
	res, err := c.HTTP.Do(req)
	if err != nil {
		return Reply{Took: time.Since(start)}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return Reply{Status: res.StatusCode, Body: b, Header: res.Header, Took: time.Since(start)}, err
}

// Expect sends a request and returns an error unless the answer has
// status want.
func (c *Client) Expect(want int, method, path string, body any, hdr ...string) (Reply, error) {
	r, err := c.Do(method, path, body, hdr...)
	if err != nil {
		return r, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if r.Status != want {
		b := r.Body
		if len(b) > 500 {
			b = append(b[:500:500], "..."...)
		}
		return r, fmt.Errorf("%s %s: %d %s, want %d", method, path, r.Status, bytes.TrimSpace(b), want)
	}
	return r, nil
}

// Must is Expect that fails t instead of returning an error.
func (c *Client) Must(t testing.TB, want int, method, path string, body any, hdr ...string) Reply {
	t.Helper()
	r, err := c.Expect(want, method, path, body, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// SignUp creates a user with email and password through the API.
func (c *Client) SignUp(email, password, displayName string) error {
	_, err := c.Expect(http.StatusCreated, "POST", "/api/v1/auth/signup",
		map[string]string{"email": email, "password": password, "display_name": displayName})
	return err
}

// LogIn gets an API token for email and password; the client sends it
// from then on.
func (c *Client) LogIn(email, password string) error {
	r, err := c.Expect(http.StatusCreated, "POST", "/api/v1/auth/tokens", map[string]string{"email": email, "password": password})
	if err != nil {
		return err
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(r.Body, &tok); err != nil || tok.Token == "" {
		return fmt.Errorf("no token in the answer %s", r.Body)
	}
	c.Token = tok.Token
	return nil
}

// CreateChannel opens the user's channel.
func (c *Client) CreateChannel(handle, name string) error {
	_, err := c.Expect(http.StatusCreated, "POST", "/api/v1/channels", map[string]string{"name": name, "handle": handle})
	return err
}

// UploadForm is a simple-upload body (POST /api/v1/videos): the fields,
// then the file.
func UploadForm(title string, file []byte) (body []byte, contentType string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("title", title)
	_ = mw.WriteField("visibility", "public")
	fw, _ := mw.CreateFormFile("file", "clip.mp4")
	_, _ = fw.Write(file)
	_ = mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// Upload sends file through the simple upload as a public video and
// returns its public id.
func (c *Client) Upload(title string, file []byte) (string, error) {
	body, ctype := UploadForm(title, file)
	r, err := c.Expect(http.StatusCreated, "POST", "/api/v1/videos", body, "Content-Type", ctype)
	if err != nil {
		return "", err
	}
	return DecodeVideoID(r.Body)
}

// DecodeVideoID is the public id of the video in an answer about one video
// (`{"video": {...}}`).
func DecodeVideoID(body []byte) (string, error) {
	var v struct {
		Video struct {
			ID string `json:"id"`
		} `json:"video"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("video answer %.300s: %w", body, err)
	}
	if v.Video.ID == "" {
		return "", fmt.Errorf("no video id in the answer %.300s", body)
	}
	return v.Video.ID, nil
}

// Play is the answer of GET /api/v1/videos/{id}/play.
type Play struct {
	Token           string `json:"play_token"`
	MinWatchSeconds int64  `json:"min_watch_seconds"`
}

// DecodePlay reads a play answer; it is an error when it holds no token.
func DecodePlay(body []byte) (Play, error) {
	var p Play
	if err := json.Unmarshal(body, &p); err != nil || p.Token == "" {
		return p, fmt.Errorf("no play token in the answer %.300s", body)
	}
	return p, nil
}

// ViewResult is the answer of POST /api/v1/videos/{id}/views.
type ViewResult struct {
	Counted bool   `json:"counted"`
	Reason  string `json:"reason"`
}

// DecodeViewResult reads a view report's answer.
func DecodeViewResult(body []byte) (ViewResult, error) {
	var v ViewResult
	if err := json.Unmarshal(body, &v); err != nil {
		return v, fmt.Errorf("view report answer %.300s: %w", body, err)
	}
	return v, nil
}

// DecodeCommentID is the id of the comment in an answer about one comment.
func DecodeCommentID(body []byte) (int64, error) {
	var c struct {
		Comment struct {
			ID int64 `json:"id"`
		} `json:"comment"`
	}
	if err := json.Unmarshal(body, &c); err != nil || c.Comment.ID <= 0 {
		return 0, fmt.Errorf("no comment id in the answer %.300s", body)
	}
	return c.Comment.ID, nil
}

// DecodeErrorCode is the code and message of an API error answer.
func DecodeErrorCode(body []byte) (code, message string, err error) {
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return "", "", err
	}
	return e.Error.Code, e.Error.Message, nil
}

// SignUp creates a user through the API and returns a client holding an API
// token; with handle != "" the user also opens a channel (a creator). The
// password is TestPassword.
func SignUp(t testing.TB, base, email, handle string) *Client {
	t.Helper()
	c := NewClient(base)
	name, _, _ := strings.Cut(email, "@")
	if err := c.SignUp(email, TestPassword, name); err != nil {
		t.Fatal(err)
	}
	if err := c.LogIn(email, TestPassword); err != nil {
		t.Fatal(err)
	}
	if handle != "" {
		if err := c.CreateChannel(handle, handle); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// MustUpload is Upload that fails t instead of returning an error.
func (c *Client) MustUpload(t testing.TB, title string, file []byte) string {
	t.Helper()
	id, err := c.Upload(title, file)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
