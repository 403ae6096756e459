package probe

import (
	"bufio"
	"context"
	"net"
	"sync"
	"time"
)

// probeOnce sends one probe on a socket of its own and waits for its answer.
type probeOnce func(f Flow, seq uint64, sent time.Time, timeout time.Duration) Sample

// runFresh sends every probe from a new socket, so from a new source port:
// the control flow that no stale conntrack entry can hold.
func runFresh(ctx context.Context, f Flow, o Options, emit func(Sample), once probeOnce) error {
	var wg sync.WaitGroup
	schedule(ctx, o.Interval, func(seq uint64, sent time.Time) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			emit(once(f, seq, sent, o.Timeout))
		}()
	})
	wg.Wait()
	return nil
}

// udpOnce: new UDP socket, one datagram, one answer.
func udpOnce(f Flow, seq uint64, sent time.Time, timeout time.Duration) Sample {
	deadline := sent.Add(timeout)
	c, err := net.DialTimeout("udp", f.Target, timeout)
	if err != nil {
		return lostSample(f, seq, sent, "", err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	c.SetDeadline(deadline)
	if _, err := c.Write(appendRequest(nil, seq, "")); err != nil {
		return lostSample(f, seq, sent, local, err)
	}
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return lostSample(f, seq, sent, local, err)
		}
		if r, err := parseReply(buf[:n]); err == nil && r.Seq == seq {
			return answeredSample(f, seq, sent, time.Now(), local, r)
		}
	}
}

// tcpOnce: new TCP connection, one request, one answer, close.
func tcpOnce(f Flow, seq uint64, sent time.Time, timeout time.Duration) Sample {
	deadline := sent.Add(timeout)
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("tcp", f.Target)
	if err != nil {
		return lostSample(f, seq, sent, "", err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	c.SetDeadline(deadline)
	if _, err := c.Write(appendRequest(nil, seq, "")); err != nil {
		return lostSample(f, seq, sent, local, err)
	}
	line, err := bufio.NewReader(c).ReadSlice('\n')
	if err != nil {
		return lostSample(f, seq, sent, local, err)
	}
	r, err := parseReply(line)
	if err != nil {
		return lostSample(f, seq, sent, local, err)
	}
	return answeredSample(f, seq, sent, time.Now(), local, r)
}
