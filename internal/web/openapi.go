package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"
)

// openAPIYAML is the API contract: an OpenAPI 3.1 document of every
// /api/v1 route. The route-coverage test keeps it in step with the route
// table, and the handler tests validate every answer they receive against
// it (openapi_test.go).
//
//go:embed openapi.yaml
var openAPIYAML []byte

// openAPIDoc is the document as JSON and its ETag, converted once.
var openAPIDoc = sync.OnceValues(func() (openAPIJSON, error) { return convertOpenAPI(openAPIYAML) })

// openAPIJSON is the served form of the document.
type openAPIJSON struct {
	body []byte
	etag string
}

// convertOpenAPI turns the YAML document into JSON. Every mapping key must
// be a string (quote status codes), as JSON's are.
func convertOpenAPI(src []byte) (openAPIJSON, error) {
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return openAPIJSON{}, fmt.Errorf("openapi.yaml: %w", err)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return openAPIJSON{}, fmt.Errorf("openapi.yaml as JSON: %w", err)
	}
	sum := sha256.Sum256(body)
	return openAPIJSON{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}, nil
}

// apiOpenAPI serves the document: the same bytes for everyone, cacheable
// and revalidated by ETag.
func (s *Server) apiOpenAPI(c *gin.Context) {
	doc, err := openAPIDoc()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", doc.etag)
	c.Header("Cache-Control", "public, max-age=3600")
	if match := c.GetHeader("If-None-Match"); match != "" && match == doc.etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "application/json", doc.body)
}
