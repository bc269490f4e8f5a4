package postgres

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ucc-video/ucc/internal/errs"
)

// TestMapErrConnectionLost: a connection that breaks mid-query (the server
// went away) is "unavailable" (503), never an unexpected error (500).
func TestMapErrConnectionLost(t *testing.T) {
	for _, err := range []error{
		io.ErrUnexpectedEOF,
		fmt.Errorf("query: %w", io.EOF),
		pgconn.ErrConnClosed,
		&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET},
		fmt.Errorf("write: %w", syscall.EPIPE),
		&pgconn.PgError{Code: "57P01"}, // terminating connection due to administrator command
	} {
		if got := mapErr(err); !errors.Is(got, errs.ErrUnavailable) {
			t.Errorf("mapErr(%v) = %v, want ErrUnavailable", err, got)
		}
	}
	for _, err := range []error{pgx.ErrNoRows, &pgconn.PgError{Code: "23505"}, &pgconn.PgError{Code: "57014"}, errors.New("something else")} {
		if got := mapErr(err); errors.Is(got, errs.ErrUnavailable) {
			t.Errorf("mapErr(%v) = %v, want not ErrUnavailable", err, got)
		}
	}
}
