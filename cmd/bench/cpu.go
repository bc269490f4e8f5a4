package main

import (
	"bytes"
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

// Process groups whose CPU a row reports.
const (
	groupUCC      = "ucc"
	groupPostgres = "postgres"
	groupRedis    = "redis"
	groupSelf     = "bench"
)

// cpuSnapshot is the CPU time used so far by each process the bench
// watches, and by the whole machine, to say where a request's cost goes.
type cpuSnapshot struct {
	at      time.Time
	procs   map[int]procTime // by pid
	machine float64          // seconds all CPUs were busy (not idle or iowait)
}

type procTime struct {
	group string
	secs  float64
}

// takeCPU reads /proc: the ucc process, this process, Redis, and the
// PostgreSQL processes that serve the bench database or the whole server
// (checkpointer, WAL writer, ...), not other databases' backends.
func takeCPU(uccPid int, dbName string) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), procs: map[int]procTime{}}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		if len(f) > 8 && f[0] == "cpu" {
			var total float64
			for i, v := range f[1:] {
				if i == 3 || i == 4 { // idle, iowait
					continue
				}
				n, _ := strconv.ParseFloat(v, 64)
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
		group := ""
		switch {
		case pid == uccPid:
			group = groupUCC
		case pid == self:
			group = groupSelf
		case name == "redis-server":
			group = groupRedis
		case name == "postgres":
			if postgresServes(pid, dbName) {
				group = groupPostgres
			}
		}
		if group != "" {
			s.procs[pid] = procTime{group, secs}
		}
	}
	return s
}

// postgresServes reports whether a postgres process is a backend of dbName
// or a server-wide process (its title names no client "host(port)").
func postgresServes(pid int, dbName string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	title := string(bytes.ReplaceAll(b, []byte{0}, []byte{' '}))
	if strings.Contains(title, " "+dbName+" ") {
		return true
	}
	return !strings.Contains(title, "(") // background process, no client
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

// cpuUse is the CPU spent between two snapshots, by group. A process that
// started in between counts whole; one that ended in between is lost (so
// figures may be a little low, never negative).
type cpuUse struct {
	wall    time.Duration
	groups  map[string]float64
	machine float64
}

func (a cpuSnapshot) until(b cpuSnapshot) cpuUse {
	u := cpuUse{wall: b.at.Sub(a.at), groups: map[string]float64{}, machine: b.machine - a.machine}
	for pid, p := range b.procs {
		d := p.secs
		if old, ok := a.procs[pid]; ok && old.group == p.group {
			d -= old.secs
		}
		u.groups[p.group] += max(d, 0)
	}
	return u
}

func (u *cpuUse) add(o cpuUse) {
	if u.groups == nil {
		u.groups = map[string]float64{}
	}
	u.wall += o.wall
	u.machine += o.machine
	for g, v := range o.groups {
		u.groups[g] += v
	}
}

// perRequest describes CPU per request in microseconds, by process group.
func (u cpuUse) perRequest(requests int64) string {
	if requests == 0 || u.wall <= 0 {
		return ""
	}
	us := func(sec float64) float64 { return sec * 1e6 / float64(requests) }
	other := u.machine
	for _, v := range u.groups {
		other -= v
	}
	return fmt.Sprintf("CPU per UCC request: ucc %.0f µs, PostgreSQL %.0f µs, Redis %.0f µs, load generator %.0f µs, everything else on the (shared) machine %.0f µs; the machine was %.0f%% busy",
		us(u.groups[groupUCC]), us(u.groups[groupPostgres]), us(u.groups[groupRedis]), us(u.groups[groupSelf]), us(max(other, 0)),
		100*u.machine/u.wall.Seconds()/float64(max(1, runtime.NumCPU())))
}
