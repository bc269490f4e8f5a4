// Package bytesize writes byte counts for people, in binary units (KiB,
// MiB, GiB: powers of 1024), so that an "8 GiB" limit and a file's size are
// always in the same units. static/js/upload.js's formatBytes follows the
// same rule, so the upload page's figures match the server's messages.
package bytesize

import (
	"fmt"
	"strings"
)

// Format renders n as "500 bytes", "1.5 KiB", "8 GiB": below 1024 the
// number of bytes, else one decimal (dropped when zero) of the largest
// binary unit that n reaches.
func Format(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	s := strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/float64(div)), ".0")
	return s + " " + string("KMGTPE"[exp]) + "iB"
}
