package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc CPU times (100 on Linux).
const clockTicks = 100

// cpuSnapshot is the CPU time used so far by the processes a bench row
// cares about, to say where a request's cost goes.
type cpuSnapshot struct {
	at       time.Time
	ucc      float64 // seconds, the ucc serve process
	postgres float64 // all processes named postgres
	redis    float64 // all processes named redis-server
	minio    float64 // all processes named minio
	self     float64 // this process: the load generator
	machine  float64 // all CPUs, busy time (not idle or iowait)
}

// takeCPU reads /proc. Processes that cannot be read are skipped.
func takeCPU(uccPid int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		if len(f) > 8 && f[0] == "cpu" {
			var total float64
			for i, v := range f[1:] {
				n, _ := strconv.ParseFloat(v, 64)
				if i == 3 || i == 4 { // idle, iowait
					continue
				}
				total += n
			}
			s.machine = total / clockTicks
		}
	}
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		name, secs, ok := procCPU(pid)
		if !ok {
			continue
		}
		switch {
		case pid == uccPid:
			s.ucc += secs
		case pid == self:
			s.self += secs
		case name == "postgres":
			s.postgres += secs
		case name == "redis-server":
			s.redis += secs
		case name == "minio":
			s.minio += secs
		}
	}
	return s
}

// procCPU returns a process's name and its user+system CPU seconds.
func procCPU(pid int) (string, float64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return "", 0, false
	}
	name := s[open+1 : close]
	f := strings.Fields(s[close+1:])
	// After the name: state(0) ppid(1) ... utime(11) stime(12).
	if len(f) < 13 {
		return "", 0, false
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return name, (ut + st) / clockTicks, true
}

// cpuUse is the CPU spent between two snapshots.
type cpuUse struct {
	wall                                       time.Duration
	ucc, postgres, redis, minio, self, machine float64
}

func (a cpuSnapshot) until(b cpuSnapshot) cpuUse {
	return cpuUse{wall: b.at.Sub(a.at), ucc: b.ucc - a.ucc, postgres: b.postgres - a.postgres,
		redis: b.redis - a.redis, minio: b.minio - a.minio, self: b.self - a.self, machine: b.machine - a.machine}
}

func (u *cpuUse) add(o cpuUse) {
	u.wall += o.wall
	u.ucc += o.ucc
	u.postgres += o.postgres
	u.redis += o.redis
	u.minio += o.minio
	u.self += o.self
	u.machine += o.machine
}

// perRequest describes CPU per request in microseconds, by process.
func (u cpuUse) perRequest(requests int64) string {
	if requests == 0 {
		return ""
	}
	us := func(sec float64) float64 { return sec * 1e6 / float64(requests) }
	other := u.machine - u.ucc - u.postgres - u.redis - u.minio - u.self
	return fmt.Sprintf("CPU per UCC request: ucc %.0f µs, PostgreSQL %.0f µs, Redis %.0f µs, load generator %.0f µs, anything else on the machine %.0f µs (the machine was %.0f%% busy)",
		us(u.ucc), us(u.postgres), us(u.redis), us(u.self), us(max(other, 0)), 100*u.machine/u.wall.Seconds()/float64(numCPU()))
}

func numCPU() int { return max(1, runtime.NumCPU()) }
