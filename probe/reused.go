package probe

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"
)

// runTCPReused sends every probe over one kept-alive TCP connection, requests
// pipelined so a slow answer never delays the next probe. When the connection
// breaks, waiting probes are lost and one reconnect is attempted at a time;
// probes sent while there is no connection are lost with the last dial error.
func runTCPReused(ctx context.Context, f Flow, o Options, emit func(Sample)) error {
	p := newInflight(f, emit)
	r := &reusedConn{f: f, o: o, p: p}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.sweep(sctx, o.Timeout); close(done) }()
	r.mu.Lock()
	r.dialing = true
	r.mu.Unlock()
	r.dial() // connect before the first probe, as a client would at start-up
	out := make([]byte, 0, 32)
	schedule(ctx, o.Interval, func(seq uint64, sent time.Time) {
		c, local, err := r.get()
		if c == nil {
			emit(lostSample(f, seq, sent, "", err))
			return
		}
		p.add(seq, sent, local)
		c.SetWriteDeadline(sent.Add(o.Timeout))
		if _, err := c.Write(appendRequest(out[:0], seq, "")); err != nil {
			r.drop(c, err)
		}
	})
	stop()
	<-done
	r.close()
	return nil
}

// reusedConn owns the one connection and its reconnects.
type reusedConn struct {
	f Flow
	o Options
	p *inflight

	mu      sync.Mutex
	c       net.Conn
	dialing bool
	lastErr error
}

// get returns the live connection, or nil and why, starting a reconnect.
func (r *reusedConn) get() (net.Conn, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil {
		return r.c, r.c.LocalAddr().String(), nil
	}
	if !r.dialing {
		r.dialing = true
		go r.dial()
	}
	if r.lastErr == nil {
		return nil, "", errNotConnected
	}
	return nil, "", r.lastErr
}

func (r *reusedConn) dial() {
	d := net.Dialer{Timeout: r.o.Timeout}
	if r.f.LocalPort != 0 {
		d.LocalAddr = &net.TCPAddr{Port: r.f.LocalPort}
	}
	c, err := d.Dial("tcp", r.f.Target)
	r.mu.Lock()
	r.dialing, r.c, r.lastErr = false, c, err
	r.mu.Unlock()
	if err != nil {
		return
	}
	go func() {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadSlice('\n')
			now := time.Now()
			if err != nil {
				r.drop(c, err)
				return
			}
			if rep, err := parseReply(line); err == nil {
				r.p.answer(rep, now)
			}
		}
	}()
}

// drop closes c if it is still the live connection and fails its probes.
func (r *reusedConn) drop(c net.Conn, err error) {
	r.mu.Lock()
	live := r.c == c
	if live {
		r.c, r.lastErr = nil, err
	}
	r.mu.Unlock()
	if live {
		c.Close()
		r.p.failAll(err)
	}
}

func (r *reusedConn) close() {
	r.mu.Lock()
	c := r.c
	r.c = nil
	r.mu.Unlock()
	if c != nil {
		c.Close()
	}
}
