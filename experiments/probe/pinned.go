package probe

import (
	"context"
	"errors"
	"net"
	"time"
)

// runUDPPinned sends every probe from one long-lived UDP socket with a fixed
// source port, as statsd and SNMP clients do. Its 5-tuple never changes, so
// a conntrack entry made for it keeps being refreshed by its own traffic —
// exactly the flow that stale-entry failures blackhole.
func runUDPPinned(ctx context.Context, f Flow, o Options, emit func(Sample)) error {
	raddr, err := net.ResolveUDPAddr("udp", f.Target)
	if err != nil {
		return err
	}
	c, err := net.DialUDP("udp", &net.UDPAddr{Port: f.LocalPort}, raddr)
	if err != nil {
		return err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	p := newInflight(f, emit)
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := c.Read(buf)
			now := time.Now()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				p.refusal(now, err)
				continue
			}
			if r, err := parseReply(buf[:n]); err == nil {
				p.answer(r, now)
			}
		}
	}()
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.sweep(sctx, o.Timeout); close(done) }()
	out := make([]byte, 0, 32)
	schedule(ctx, o.Interval, func(seq uint64, sent time.Time) {
		p.add(seq, sent, local)
		if _, err := c.Write(appendRequest(out[:0], seq)); err != nil {
			// A connected UDP socket reports an earlier ICMP error on the next send.
			p.refusal(time.Now(), err)
		}
	})
	stop()
	<-done
	return nil
}
