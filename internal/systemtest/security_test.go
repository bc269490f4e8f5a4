package systemtest

import (
	"net/url"
	"strings"
	"testing"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	"github.com/ucc-video/ucc/storage/redis/redistest"
)

// TestSecretsNeverLogged runs `ucc serve` at debug level and sends it every
// way a password or token travels: sign-up and log-in through the API and
// the forms (right, wrong, malformed and too long), token use and
// revocation, a secret in a query string, plus `ucc users create`. The
// whole log (and the CLI's output) must not contain any of the secrets,
// while it does hold the request lines (so the capture works).
func TestSecretsNeverLogged(t *testing.T) {
	systemTest(t)
	_, prefix := redistest.Client(t)
	tag := testenv.RandomHex(6)
	secret := func(n string) string { return "Sekret-" + n + "-" + tag }
	u := testenv.StartUCC(t, testenv.ServeConfig{Env: map[string]string{
		"UCC_DATABASE_URL": pgtest.URL(t), "UCC_STORAGE": "fs", "UCC_STORAGE_DIR": t.TempDir(),
		"UCC_REDIS_URL": testenv.RedisURL(t), "UCC_REDIS_PREFIX": prefix,
		"UCC_LOG_FORMAT": "json", "UCC_LOG_LEVEL": "debug", "UCC_SHUTDOWN_TIMEOUT": "5s",
	}})
	client := testenv.NewClient(u.Base)
	type sent struct {
		method, path string
		testenv.Reply
	}
	send := func(method, path, ctype, body string, headers ...string) sent {
		t.Helper()
		if ctype != "" {
			headers = append(headers, "Content-Type", ctype)
		}
		r, err := client.Do(method, path, body, headers...)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return sent{method, path, r}
	}
	want := func(s sent, status int) {
		t.Helper()
		if s.Status != status {
			t.Fatalf("%s %s: %d, want %d: %s", s.method, s.path, s.Status, status, s.Body)
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
	body := res.Body
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
	cliPw := secret("cli")
	cli := u.Command(nil, strings.NewReader(cliPw+"\n"), "users", "create", "--email", "fin@example.com", "--role", "finance", "--password-stdin")
	if cli.Code != 0 {
		t.Fatalf("users create: exit %d: %s %s", cli.Code, cli.Stdout, cli.Stderr)
	}
	want(send("POST", "/api/v1/auth/tokens", js, `{"email":"fin@example.com","password":"`+cliPw+`"}`), 201)

	u.Stop()
	all := u.Log().String() + cli.Stdout + cli.Stderr
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
