// Package templates embeds UCC's html/template files: layout.html, the
// shared partials/ and one file per page in pages/.
package templates

import "embed"

// FS holds every template file.
//
//go:embed layout.html partials pages
var FS embed.FS
