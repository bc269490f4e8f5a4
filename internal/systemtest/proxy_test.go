package systemtest

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// proxy is a TCP proxy in front of a dependency. cut closes every open
// connection and refuses new ones (the port is closed, as when the service
// is stopped); restore opens the port again.
type proxy struct {
	target string
	Addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	cuts  int
	hole  bool // stalled: connections are accepted and never answered
}

// newProxy listens on a free loopback port and forwards to target.
func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{target: target, Addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() { p.cut() })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil { // cut meanwhile
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *proxy) pipe(c net.Conn) {
	p.mu.Lock()
	hole := p.hole
	p.mu.Unlock()
	if hole { // hold the connection open, read nothing, answer nothing
		p.track(c)
		return
	}
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c) || !p.track(up) {
		c.Close()
		up.Close()
		return
	}
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// cut drops every connection (with a TCP reset) and closes the port.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return
	}
	p.ln.Close()
	p.ln = nil
	p.cuts++
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, like a crashed server
		}
		c.Close()
		delete(p.conns, c)
	}
}

// stall drops every connection and then accepts new ones but never answers
// them: a server that hangs, or a network that silently drops packets.
func (p *proxy) stall(t testing.TB) {
	t.Helper()
	p.cut()
	p.mu.Lock()
	p.hole = true
	p.mu.Unlock()
	p.restore(t)
}

// restore opens the port again (after cut) or ends a stall, dropping the
// connections it held.
func (p *proxy) restore(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	up, hole := p.ln != nil, p.hole
	p.mu.Unlock()
	if up && hole {
		p.cut()
		p.mu.Lock()
		p.hole = false
		p.cuts-- // one fault: the stall
		p.mu.Unlock()
	} else if up {
		return
	}
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", p.Addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("proxy: cannot listen on %s again: %v", p.Addr, err)
}
