package web

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The API contract in the handler tests: the rig (newTestServer) sends
// every request through contract.handler, which validates each /api/v1
// answer (status, headers, body) against openapi.yaml with kin-openapi,
// and each request the tests send: a request the document calls invalid
// must not succeed (2xx; a redirect to the canonical address is no answer). A test fails with the validation error.

// contract is openapi.yaml, loaded (from the JSON the server serves) and
// validated once per test binary, with its router and what it has checked.
type contract struct {
	doc    *openapi3.T
	router routers.Router
	// validated counts the answers validated; byOp the answers per
	// operation ("GET /api/v1/videos/{id}").
	validated atomic.Int64
	byOp      sync.Map // string → *atomic.Int64
	// spent is the time spent validating, in nanoseconds.
	spent atomic.Int64
}

var (
	contractOnce sync.Once
	theContract  *contract
	contractErr  error
)

// apiContract returns the loaded contract, failing t when it does not load.
func apiContract(t testing.TB) *contract {
	t.Helper()
	contractOnce.Do(func() { theContract, contractErr = loadContract() })
	if contractErr != nil {
		t.Fatalf("openapi.yaml: %v", contractErr)
	}
	return theContract
}

func loadContract() (*contract, error) {
	served, err := openAPIDoc()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(served.body)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("invalid document: %w", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi %q, want 3.1", doc.OpenAPI)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &contract{doc: doc, router: router}, nil
}

// Capture limits: a request body is validated when it is JSON, read to its
// end and at most maxCheckedRequest bytes; an answer's body when it is at
// most maxCheckedAnswer bytes (uploads and media stream far more).
const (
	maxCheckedRequest = 1 << 20
	maxCheckedAnswer  = 8 << 20
)

// exchange is one request and its answer as the handler saw them.
type exchange struct {
	req         *http.Request
	reqBody     []byte
	reqBodyOK   bool // reqBody is the whole JSON body
	status      int
	header      http.Header
	body        []byte
	bodyTooLong bool
}

// handler validates every /api/v1 exchange through h; report gets each
// violation.
func (k *contract) handler(h http.Handler, report func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			h.ServeHTTP(w, r)
			return
		}
		var body *capturedBody
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" && r.Body != nil {
			body = &capturedBody{rc: r.Body}
			r.Body = body
		}
		rec := &answerRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if body != nil && r.Body == body {
			// net/http decides by the body's type whether to drain what
			// the handler left unread or to close the connection: give it
			// its own back.
			r.Body = body.rc
		}
		x := exchange{req: r, status: rec.status, header: rec.header, body: rec.buf.Bytes(), bodyTooLong: rec.over}
		if x.status == 0 { // nothing written: net/http answers 200
			x.status, x.header = http.StatusOK, w.Header().Clone()
		}
		if body != nil {
			x.reqBody, x.reqBodyOK = body.buf.Bytes(), body.eof && !body.over
		}
		start := time.Now()
		err := k.check(x)
		k.spent.Add(int64(time.Since(start)))
		if err != nil {
			report(err)
		}
	})
}

// check validates one exchange; nil when the path is not in the document
// (a 404 of the router, which the route-coverage test keeps honest).
func (k *contract) check(x exchange) error {
	req := x.req.Clone(context.Background())
	req.Body = http.NoBody
	if x.reqBodyOK {
		req.Body = io.NopCloser(bytes.NewReader(x.reqBody))
	}
	route, params, err := k.router.FindRoute(req)
	if err != nil {
		return nil // an address outside the contract (the router's 404 or 405)
	}
	what := fmt.Sprintf("%s %s (%s %s)", req.Method, req.URL.RequestURI(), route.Method, route.Path)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: presentCredentials, ExcludeRequestBody: !x.reqBodyOK, MultiError: true}}
	if reqErr := openapi3filter.ValidateRequest(context.Background(), in); reqErr != nil && x.status < 300 {
		return fmt.Errorf("openapi: %s: the document refuses the request, but the server answered %d:\n%v\nrequest body: %.300s",
			what, x.status, reqErr, x.reqBody)
	}
	if req.Method != http.MethodHead { // kin-openapi does not check HEAD answers
		k.validated.Add(1)
		n, _ := k.byOp.LoadOrStore(route.Method+" "+route.Path, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: x.status, Header: x.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: x.bodyTooLong, MultiError: true}}
	out.SetBodyBytes(x.body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("openapi: %s: the answer does not match the document:\n%v\nstatus %d, body: %.500s", what, err, x.status, x.body)
	}
	// A response the document gives no content has no body (kin-openapi
	// leaves that unchecked).
	if resp := route.Operation.Responses.Status(x.status); resp != nil && resp.Value != nil && len(resp.Value.Content) == 0 && len(x.body) > 0 {
		return fmt.Errorf("openapi: %s: the answer does not match the document: status %d has no body, got %.200s", what, x.status, x.body)
	}
	return nil
}

// presentCredentials is the contract's view of authentication: a bearer
// scheme is met by an Authorization: Bearer header, the cookie scheme by
// the session cookie. Whether they are valid is the server's business.
func presentCredentials(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch s := in.SecurityScheme; {
	case s.Type == "http" && s.Scheme == "bearer":
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			return nil
		}
	case s.Type == "apiKey" && s.In == "cookie":
		if c, err := r.Cookie(s.Name); err == nil && c.Value != "" {
			return nil
		}
	default:
		return fmt.Errorf("security scheme %q: unknown kind", in.SecuritySchemeName)
	}
	return in.NewError(nil)
}

// capturedBody keeps a copy of the first maxCheckedRequest bytes of a
// request body as the handler reads it.
type capturedBody struct {
	rc   io.ReadCloser
	buf  bytes.Buffer
	eof  bool
	over bool
}

func (b *capturedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if b.buf.Len()+n > maxCheckedRequest {
		b.over = true
	} else {
		b.buf.Write(p[:n])
	}
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

func (b *capturedBody) Close() error { return b.rc.Close() }

// answerRecorder passes an answer through and keeps its status, its
// headers as sent and up to maxCheckedAnswer bytes of its body.
type answerRecorder struct {
	http.ResponseWriter
	status int
	header http.Header
	buf    bytes.Buffer
	over   bool
}

func (a *answerRecorder) WriteHeader(code int) {
	if a.status == 0 && code >= 200 {
		a.status, a.header = code, a.ResponseWriter.Header().Clone()
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerRecorder) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.WriteHeader(http.StatusOK)
	}
	if a.buf.Len()+len(p) > maxCheckedAnswer {
		a.over = true
	} else {
		a.buf.Write(p)
	}
	return a.ResponseWriter.Write(p)
}

// Flush, Hijack and Unwrap keep what the server's handlers use of the
// connection (streaming, read deadlines through http.ResponseController).
func (a *answerRecorder) Flush() { _ = http.NewResponseController(a.ResponseWriter).Flush() }

func (a *answerRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(a.ResponseWriter).Hijack()
}

func (a *answerRecorder) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// report is what the contract checked in this test binary: the number of
// answers validated, the time that took, and the operations reached.
func (k *contract) report() (validated int64, spent time.Duration, ops, reached int, unreached []string) {
	for path, item := range k.doc.Paths.Map() {
		for method := range item.Operations() {
			if method == http.MethodHead {
				continue
			}
			ops++
			if n, ok := k.byOp.Load(method + " " + path); ok && n.(*atomic.Int64).Load() > 0 {
				reached++
			} else {
				unreached = append(unreached, method+" "+path)
			}
		}
	}
	sort.Strings(unreached)
	return k.validated.Load(), time.Duration(k.spent.Load()), ops, reached, unreached
}
