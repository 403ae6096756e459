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
//
// One-way (UDPOneWay), the socket never receives anything, as a statsd or
// SNMP-trap sender: its conntrack entry stays [UNREPLIED] with the 30 s UDP
// timeout that each datagram refreshes. The responder reports each arrival
// to a second, ephemeral socket instead (a 5-tuple of its own), so loss is
// still measured per probe.
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
	answers, ack := c, ""
	if f.Mode == UDPOneWay {
		// Bound to the address the flow leaves from, so the ack address is
		// one the responder can reach.
		ac, err := net.ListenUDP("udp", &net.UDPAddr{IP: c.LocalAddr().(*net.UDPAddr).IP})
		if err != nil {
			return err
		}
		defer ac.Close()
		answers, ack = ac, ac.LocalAddr().String()
		// The probed socket only ever reports errors (ICMP unreachable).
		go readErrors(c, p)
	}
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := answers.Read(buf)
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
	out := make([]byte, 0, 64)
	schedule(ctx, o.Interval, func(seq uint64, sent time.Time) {
		p.add(seq, sent, local)
		if _, err := c.Write(appendRequest(out[:0], seq, ack)); err != nil {
			// A connected UDP socket reports an earlier ICMP error on the next send.
			p.refusal(time.Now(), err)
		}
	})
	stop()
	<-done
	return nil
}

// readErrors records the errors a one-way socket reports (a refusal) until
// it is closed; anything it receives is not an answer and is dropped.
func readErrors(c *net.UDPConn, p *inflight) {
	buf := make([]byte, 512)
	for {
		_, err := c.Read(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			p.refusal(time.Now(), err)
		}
	}
}
