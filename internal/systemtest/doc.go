// Package systemtest holds the tests that drive the built ucc binary as a
// child process against real PostgreSQL, Redis and MinIO: crashes (SIGKILL
// mid-upload, mid-encode, mid-count, mid-revenue-run), dependency faults
// (each one cut off or stalled behind a TCP proxy, Redis killed), the soak
// test and the check that secrets never reach the log. The process harness
// they run on is internal/testenv's; what only these tests need (the fault
// proxy, the private redis-server, the traffic mix and its verdicts, the
// orphaned-object check) is here.
//
// They run with the other tests (`make test`); alone:
//
//	make test PKGS=./internal/systemtest/ SKIP_FUZZ=1
//
// `make soak` runs TestSoak for minutes.
package systemtest
