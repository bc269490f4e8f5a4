package systemtest

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ucc-video/ucc/internal/testenv"
	"github.com/ucc-video/ucc/storage/postgres/pgtest"
	"github.com/ucc-video/ucc/storage/redis/redistest"
)

// loginBurstBinEnv names another ucc binary for TestLoginBurstMemory (the
// one built from main, say) to measure it the same way; the assertions
// then say whether that binary holds the bounds.
const loginBurstBinEnv = "LOGIN_BURST_BIN"

// TestLoginBurstMemory drives the built binary with the real argon2id cost
// (64 MiB a hash) and 4 hash slots: 60 parallel wrong passwords for one
// account, then 60 parallel log-ins on 60 accounts from one network. At
// most the limit (10) of the first reach the hash; the peak resident
// memory (VmHWM) stays under 1 GiB, where 60 hashes at once would take
// about 4 GB. The figures are logged for docs/security.md.
func TestLoginBurstMemory(t *testing.T) {
	systemTest(t)
	_, prefix := redistest.Client(t)
	u := testenv.StartUCC(t, testenv.ServeConfig{Bin: os.Getenv(loginBurstBinEnv), Env: map[string]string{
		"UCC_DATABASE_URL": pgtest.URL(t), "UCC_STORAGE": "fs", "UCC_STORAGE_DIR": t.TempDir(),
		"UCC_REDIS_URL": testenv.RedisURL(t), "UCC_REDIS_PREFIX": prefix, "UCC_LOG_LEVEL": "warn",
		"UCC_LOGIN_HASH_CONCURRENCY": "4", "UCC_SHUTDOWN_TIMEOUT": "5s",
	}})
	client := testenv.NewClient(u.Base)
	client.Must(t, 201, "POST", "/api/v1/auth/signup", `{"email":"victim@example.com","password":"correct horse battery"}`, "Content-Type", "application/json")
	pid := u.Process().Pid()
	hwm := func() int64 {
		t.Helper()
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				return kb << 10
			}
		}
		t.Fatal("no VmHWM in /proc/pid/status")
		return 0
	}
	burst := func(email func(i int) string) map[int]int {
		var mu sync.Mutex
		got := map[int]int{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < 60; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := http.Post(u.Base+"/api/v1/auth/tokens", "application/json",
					strings.NewReader(`{"email":"`+email(i)+`","password":"wrong wrong"}`))
				status := 0
				if err == nil {
					status = res.StatusCode
					if (status == 429 || status == 503) && res.Header.Get("Retry-After") == "" {
						t.Errorf("%d without Retry-After", status)
					}
					res.Body.Close()
				}
				mu.Lock()
				got[status]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		return got
	}
	before := hwm()
	one := burst(func(int) string { return "victim@example.com" })
	afterOne := hwm()
	many := burst(func(i int) string { return fmt.Sprintf("user%d@example.com", i) })
	afterMany := hwm()
	t.Logf("VmHWM: %d MiB at rest; %d MiB after 60 parallel wrong passwords on one account (answers %v); %d MiB after 60 parallel log-ins on 60 accounts (answers %v)",
		before>>20, afterOne>>20, one, afterMany>>20, many)
	if one[401] > 10 || one[401]+one[429]+one[503] != 60 {
		t.Errorf("one account: %v; want at most 10 × 401, the rest 429/503", one)
	}
	if many[401]+many[429]+many[503] != 60 {
		t.Errorf("60 accounts: %v; want only 401, 429 and 503", many)
	}
	if afterMany > 1<<30 {
		t.Errorf("peak resident memory %d MiB; want under 1024 MiB with 4 hash slots", afterMany>>20)
	}
}
