package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
)

// TestSecretsNeverLogged runs `ucc serve` at debug level and sends it every
// way a password or token travels: sign-up and log-in through the API and
// the forms (right, wrong, malformed and too long), token use and
// revocation, a secret in a query string, plus `ucc users create`. The
// whole log (and the CLI's output) must not contain any of the secrets,
// while it does hold the request lines (so the capture works).
func TestSecretsNeverLogged(t *testing.T) {
	testenv.RedisURL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	tag := hex.EncodeToString(b)
	secret := func(n string) string { return "Sekret-" + n + "-" + tag }
	addr := freeAddr(t)
	for k, v := range map[string]string{
		"UCC_DATABASE_URL": pgtest.URL(t), "UCC_HTTP_ADDR": addr, "UCC_STORAGE": "fs", "UCC_STORAGE_DIR": t.TempDir(),
		"UCC_REDIS_PREFIX": "ucctest" + hex.EncodeToString(b[:3]), "UCC_LOG_FORMAT": "json", "UCC_LOG_LEVEL": "debug", "UCC_SHUTDOWN_TIMEOUT": "5s",
	} {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs safeBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, &logs) }()
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path, ctype, body string, headers ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(out))
		return res
	}
	want := func(res *http.Response, status int) {
		t.Helper()
		if res.StatusCode != status {
			b, _ := io.ReadAll(res.Body)
			t.Fatalf("%s %s: %d, want %d: %s", res.Request.Method, res.Request.URL.Path, res.StatusCode, status, b)
		}
	}
	const js, form = "application/json", "application/x-www-form-urlencoded"
	api, formPw, wrong := secret("api"), secret("form"), secret("wrong")
	want(send("POST", "/api/v1/auth/signup", js, `{"email":"api@example.com","password":"`+api+`","display_name":"Api"}`), 201)
	want(send("POST", "/signup", form, url.Values{"email": {"form@example.com"}, "password": {formPw}}.Encode()), 303)
	want(send("POST", "/login", form, url.Values{"email": {"form@example.com"}, "password": {wrong}}.Encode()), 401)
	want(send("POST", "/login", form, url.Values{"email": {"form@example.com"}, "password": {formPw}}.Encode()), 303)
	want(send("POST", "/api/v1/auth/tokens", js, `{"email":"api@example.com","password":"`+wrong+`"}`), 401)
	res := send("POST", "/api/v1/auth/tokens", js, `{"email":"api@example.com","password":"`+api+`","name":"cli"}`)
	want(res, 201)
	body, _ := io.ReadAll(res.Body)
	i := strings.Index(string(body), `"token":"`)
	if i < 0 {
		t.Fatalf("no token in %s", body)
	}
	token := string(body[i+9:])
	token = token[:strings.IndexByte(token, '"')]
	// Malformed and refused inputs carrying secrets.
	want(send("POST", "/api/v1/auth/signup", js, `{"email":"bad@example.com","password":"`+secret("malformed")+`"`), 400)
	want(send("POST", "/api/v1/auth/signup", js, `{"email":"bad@example.com","password":"`+secret("long")+strings.Repeat("x", 1100)+`"}`), 400)
	want(send("POST", "/api/v1/auth/signup", js, `{"email":"bad@example.com","password":{"`+secret("type")+`":1}}`), 400)
	want(send("POST", "/signup", form, "email=bad%40example.com&password="+secret("utf8")+"%ff"), 400)
	// The token in use, in a header and (wrongly) in query strings.
	want(send("GET", "/api/v1/me", "", "", "Authorization", "Bearer "+token), 200)
	want(send("GET", "/api/v1/me", "", "", "Authorization", "Bearer "+secret("badtoken")), 401)
	want(send("GET", "/search?q="+secret("query")+"&token="+token, "", ""), 200)
	want(send("GET", "/login?next=/&password="+secret("inquery"), "", ""), 200)
	want(send("GET", "/no/such/page?access_token="+secret("404"), "", ""), 404)
	want(send("DELETE", "/api/v1/auth/tokens/current", "", "", "Authorization", "Bearer "+token), 204)

	// The CLI reads a password from standard input and must not echo it.
	var cliOut, cliErr bytes.Buffer
	cliPw := secret("cli")
	if code := run(ctx, []string{"users", "create", "--email", "fin@example.com", "--role", "finance", "--password-stdin"},
		strings.NewReader(cliPw+"\n"), &cliOut, &cliErr); code != 0 {
		t.Fatalf("users create: exit %d: %s %s", code, cliOut.String(), cliErr.String())
	}
	want(send("POST", "/api/v1/auth/tokens", js, `{"email":"fin@example.com","password":"`+cliPw+`"}`), 201)

	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
	all := logs.String() + cliOut.String() + cliErr.String()
	if !strings.Contains(all, `"route":"/api/v1/auth/signup"`) || !strings.Contains(all, `"path":"/search"`) {
		t.Fatalf("the log capture does not hold the request lines:\n%s", all)
	}
	secrets := []string{api, formPw, wrong, secret("malformed"), secret("long"), secret("type"), secret("utf8"), token,
		secret("badtoken"), secret("query"), secret("inquery"), secret("404"), cliPw, "Sekret-"}
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %q appears in the log", s)
		}
	}
	t.Logf("%d log lines checked for %d secrets", strings.Count(all, "\n"), len(secrets))
}
