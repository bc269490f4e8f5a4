package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pageBudget is the most HTML + CSS + JS a page may weigh, uncompressed,
// not counting the video, images and fonts.
const pageBudget = 150 << 10

var (
	linkTag   = regexp.MustCompile(`(?is)<link\b[^>]*>`)
	scriptTag = regexp.MustCompile(`(?is)<script\b[^>]*>`)
	attrRe    = regexp.MustCompile(`(?is)\b(rel|href|src)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
)

// attrs returns the rel/href/src attributes of a tag.
func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = strings.Trim(a[2], `"'`)
	}
	return m
}

// pageWeight fetches the page at path and every stylesheet and script it
// links, and returns the total bytes and a per-resource breakdown.
func pageWeight(base, path string) (total int, parts []string, err error) {
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(u string) ([]byte, error) {
		resp, err := client.Get(u)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
		}
		return b, nil
	}
	baseURL, err := url.Parse(base + path)
	if err != nil {
		return 0, nil, err
	}
	html, err := get(baseURL.String())
	if err != nil {
		return 0, nil, err
	}
	total = len(html)
	parts = append(parts, fmt.Sprintf("%s %d B", path, len(html)))
	var refs []string
	for _, tag := range linkTag.FindAllString(string(html), -1) {
		a := attrs(tag)
		if strings.Contains(strings.ToLower(a["rel"]), "stylesheet") && a["href"] != "" {
			refs = append(refs, a["href"])
		}
	}
	for _, tag := range scriptTag.FindAllString(string(html), -1) {
		if src := attrs(tag)["src"]; src != "" {
			refs = append(refs, src)
		}
	}
	seen := map[string]bool{}
	for _, ref := range refs {
		u, err := baseURL.Parse(ref)
		if err != nil {
			return 0, nil, err
		}
		if seen[u.String()] {
			continue
		}
		seen[u.String()] = true
		b, err := get(u.String())
		if err != nil {
			return 0, nil, err
		}
		total += len(b)
		parts = append(parts, fmt.Sprintf("%s %d B", u.Path, len(b)))
	}
	return total, parts, nil
}

// checkPageWeight holds the page at path to the budget.
func checkPageWeight(t *testing.T, s *site, path string) {
	t.Helper()
	total, parts, err := pageWeight(s.baseURL, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s weighs %.1f KB: %s", path, float64(total)/1024, strings.Join(parts, ", "))
	if len(parts) < 3 {
		t.Errorf("%s links fewer stylesheets and scripts than expected: %v", path, parts)
	}
	if total > pageBudget {
		t.Errorf("%s weighs %d bytes of HTML+CSS+JS, over the %d-byte budget: %s", path, total, pageBudget, strings.Join(parts, ", "))
	}
}
