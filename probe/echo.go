package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
)

// Echo answers probes on the given UDP and TCP listen addresses until ctx is
// done. Every answer carries id and the source address the request came from,
// so the prober learns which backend answered and whether its own address
// survived the path (source NAT or not).
func Echo(ctx context.Context, id Identity, udpAddrs, tcpAddrs []string) error {
	var conns []net.PacketConn
	var lns []net.Listener
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
		for _, l := range lns {
			l.Close()
		}
	}
	var lc net.ListenConfig
	for _, a := range udpAddrs {
		c, err := lc.ListenPacket(ctx, "udp4", a)
		if err != nil {
			closeAll()
			return fmt.Errorf("listen udp %s: %w", a, err)
		}
		conns = append(conns, c)
	}
	for _, a := range tcpAddrs {
		l, err := lc.Listen(ctx, "tcp", a)
		if err != nil {
			closeAll()
			return fmt.Errorf("listen tcp %s: %w", a, err)
		}
		lns = append(lns, l)
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); serveUDP(c, id) }()
	}
	for _, l := range lns {
		wg.Add(1)
		go func() { defer wg.Done(); serveTCP(l, id) }()
	}
	<-ctx.Done()
	closeAll()
	wg.Wait()
	return nil
}

// serveUDP answers each datagram from the address it was sent to. A socket
// bound to the wildcard address would otherwise reply from whatever source
// the route to the client picks — on a hostNetwork pod that is the pod
// gateway's address, not the node IP the client sent to — and a client's
// connected socket drops such replies.
func serveUDP(c net.PacketConn, id Identity) {
	pc := ipv4.NewPacketConn(c)
	pinfo := pc.SetControlMessage(ipv4.FlagDst, true) == nil
	buf := make([]byte, 512)
	out := make([]byte, 0, 512)
	var lastAck string
	var ackTo net.Addr
	for {
		n, cm, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		seq, ack, err := parseRequest(buf[:n])
		if err != nil {
			continue
		}
		out = appendReply(out[:0], id, seq, from.String())
		if ack != "" {
			// One-way: report the arrival to the sender's ack socket, a
			// 5-tuple of its own, and never answer the probed one.
			if ack != lastAck {
				lastAck, ackTo = ack, nil
				if to, err := net.ResolveUDPAddr("udp4", ack); err == nil {
					ackTo = to
				}
			}
			if ackTo != nil {
				pc.WriteTo(out, nil, ackTo)
			}
			continue
		}
		var wcm *ipv4.ControlMessage
		if pinfo && cm != nil && cm.Dst != nil {
			wcm = &ipv4.ControlMessage{Src: cm.Dst}
		}
		pc.WriteTo(out, wcm, from)
	}
}

// serveTCP answers each connection line by line; when the listener closes it
// closes the open connections too, so Echo returns promptly.
func serveTCP(l net.Listener, id Identity) {
	var wg sync.WaitGroup
	var open sync.Map
	defer func() {
		open.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		open.Store(c, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer open.Delete(c)
			defer c.Close()
			src := c.RemoteAddr().String()
			r := bufio.NewReader(c)
			out := make([]byte, 0, 512)
			for {
				c.SetReadDeadline(time.Now().Add(10 * time.Minute))
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				seq, _, err := parseRequest(line)
				if err != nil {
					return
				}
				out = appendReply(out[:0], id, seq, src)
				if _, err := c.Write(out); err != nil {
					return
				}
			}
		}()
	}
}
