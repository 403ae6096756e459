package probe

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// freePort returns a loopback port with nothing listening on it (for TCP and UDP).
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startEcho runs Echo on addr (UDP and TCP) until the test ends.
func startEcho(t *testing.T, addr string, id Identity) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Echo(ctx, id, []string{addr}, []string{addr}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("echo: %v", err)
		}
	})
	// Wait until TCP answers, so the UDP socket is bound too.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo never listened on %s: %v", addr, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// collect runs a flow for d and returns its samples.
func collect(t *testing.T, f Flow, o Options, d time.Duration) []Sample {
	t.Helper()
	var mu sync.Mutex
	var out []Sample
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := Run(ctx, f, o, func(s Sample) { mu.Lock(); out = append(out, s); mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestProbeModesOnLoopback(t *testing.T) {
	addr := freePort(t)
	id := Identity{Pod: "echo-0", IP: "127.0.0.1", Node: "local"}
	startEcho(t, addr, id)
	for _, m := range Modes {
		t.Run(string(m), func(t *testing.T) {
			// What the modes do, not how fast: the rate and timing precision are
			// make bench's and make precision's, which run alone. This test runs
			// beside builds (make test runs it at nice 19), so the timeout is
			// generous and "keeps sending" is a tenth of the nominal rate.
			s := collect(t, Flow{Name: string(m), Mode: m, Target: addr}, Options{Interval: 10 * time.Millisecond, Timeout: 3 * time.Second}, time.Second)
			st := Analyze(s, nil, time.Time{})
			if st.Sent < 10 {
				t.Fatalf("sent %d probes in 1 s at 10 ms, want >= 10", st.Sent)
			}
			if st.Lost != 0 {
				t.Fatalf("lost %d of %d on loopback: %+v", st.Lost, st.Sent, st.Outages)
			}
			seqs := map[uint64]bool{}
			for _, x := range s {
				if seqs[x.Seq] {
					t.Fatalf("seq %d reported twice", x.Seq)
				}
				seqs[x.Seq] = true
			}
			if len(st.Responders) != 1 || st.Responders[0].Responder != id {
				t.Fatalf("%d responder spans (first %+v), want only %v", len(st.Responders), st.Responders[0], id)
			}
			if src := st.Responders[0].SeenSource; src != "127.0.0.1" {
				t.Fatalf("echo saw source %q", src)
			}
			locals := map[string]bool{}
			for _, x := range s {
				locals[x.Local] = true
			}
			pinned := m == UDPPinned || m == UDPOneWay || m == TCPReused
			if pinned && len(locals) != 1 {
				t.Fatalf("%s used %d source addresses, want 1", m, len(locals))
			}
			if !pinned && len(locals) < st.Sent/2 {
				t.Fatalf("%s used %d source addresses for %d probes, want one each", m, len(locals), st.Sent)
			}
		})
	}
}

func TestProbeNoListenerIsRefused(t *testing.T) {
	addr := freePort(t)
	for _, m := range Modes {
		t.Run(string(m), func(t *testing.T) {
			s := collect(t, Flow{Name: "x", Mode: m, Target: addr}, Options{Interval: 10 * time.Millisecond, Timeout: 100 * time.Millisecond}, 150*time.Millisecond)
			st := Analyze(s, nil, time.Time{})
			if st.Sent == 0 || st.Answered != 0 {
				t.Fatalf("sent=%d answered=%d, want all lost", st.Sent, st.Answered)
			}
			if st.Recovered || len(st.Outages) != 1 || !st.Outages[0].Open {
				t.Fatalf("want one open outage, got %+v", st.Outages)
			}
			if st.Outages[0].Results[Refused] == 0 {
				t.Fatalf("no probe reported refused: %+v", st.Outages[0].Results)
			}
		})
	}
}

func TestPinnedFixedLocalPort(t *testing.T) {
	addr := freePort(t)
	startEcho(t, addr, Identity{Pod: "e"})
	port := freePort(t)
	_, p, _ := net.SplitHostPort(port)
	var lp int
	for _, c := range p {
		lp = lp*10 + int(c-'0')
	}
	s := collect(t, Flow{Name: "p", Mode: UDPPinned, Target: addr, LocalPort: lp}, Options{}, 50*time.Millisecond)
	if len(s) == 0 || !strings.HasSuffix(s[0].Local, ":"+p) {
		t.Fatalf("local = %q, want port %s", s[0].Local, p)
	}
}

// A one-way probe is never answered on its own 5-tuple: the arrival goes to
// the ack address, so the probed flow's conntrack entry stays [UNREPLIED].
func TestOneWayIsNeverAnsweredOnItsOwnSocket(t *testing.T) {
	addr := freePort(t)
	startEcho(t, addr, Identity{Pod: "e"})
	raddr, _ := net.ResolveUDPAddr("udp", addr)
	probed, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer probed.Close()
	ack, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer ack.Close()
	if _, err := probed.Write(appendRequest(nil, 7, ack.LocalAddr().String())); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	ack.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := ack.Read(buf)
	if err != nil {
		t.Fatalf("no arrival report on the ack socket: %v", err)
	}
	r, err := parseReply(buf[:n])
	if err != nil || r.Seq != 7 || r.Src != probed.LocalAddr().String() {
		t.Fatalf("arrival report %+v (%v), want seq 7 seen from %s", r, err, probed.LocalAddr())
	}
	probed.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := probed.Read(buf); err == nil {
		t.Fatalf("the probed socket got %q: a one-way flow must never be answered", buf[:n])
	}
}

func TestFlowValidate(t *testing.T) {
	bad := []Flow{
		{Mode: UDPPinned, Target: "a:1"},
		{Name: "n", Mode: "udp-sticky", Target: "a:1"},
		{Name: "n", Mode: UDPPinned, Target: "nohostport"},
		{Name: "n", Mode: UDPPinned, Target: "a:1", LocalPort: 70000},
	}
	for _, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("%+v: want error", f)
		}
	}
	if err := (Flow{Name: "n", Mode: TCPNew, Target: "a:1"}).Validate(); err != nil {
		t.Error(err)
	}
}

// An echo bound to the wildcard address must answer from the address the
// probe was sent to (a hostNetwork agent reached on the node IP), or a
// connected client socket drops the answer.
func TestEchoRepliesFromTheAddressProbed(t *testing.T) {
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	startEcho(t, "0.0.0.0:"+port, Identity{Pod: "wild"})
	s := collect(t, Flow{Name: "p", Mode: UDPPinned, Target: "127.0.0.2:" + port}, Options{Interval: 10 * time.Millisecond, Timeout: 200 * time.Millisecond}, 200*time.Millisecond)
	st := Analyze(s, nil, time.Time{})
	if st.Sent == 0 || st.Lost != 0 {
		t.Fatalf("sent %d lost %d: answers from the wrong source address were dropped", st.Sent, st.Lost)
	}
}

func TestFlowStringRoundTrip(t *testing.T) {
	for _, f := range []Flow{
		{Name: "pinned", Mode: UDPPinned, Target: "10.0.0.1:8125", LocalPort: 48125},
		{Name: "fresh", Mode: UDPFresh, Target: "svc.ns.svc.cluster.local:80"},
	} {
		got, err := ParseFlow(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFlow(%q) = %+v, %v", f.String(), got, err)
		}
	}
	for _, bad := range []string{"x", "a/udp-pinned/1.2.3.4:5/port=1", "a/b/c/d/e"} {
		if _, err := ParseFlow(bad); err == nil {
			t.Errorf("ParseFlow(%q): want error", bad)
		}
	}
	args, err := Args(Options{Interval: 5 * time.Millisecond}, Flow{Name: "a", Mode: TCPNew, Target: "h:1"})
	if err != nil || strings.Join(args, " ") != "probe --rate 200 --timeout 500ms --flow a/tcp-new/h:1" {
		t.Errorf("Args = %q, %v", args, err)
	}
}

func TestDuplicateFlowNamesRejected(t *testing.T) {
	a := Flow{Name: "pinned", Mode: UDPPinned, Target: "h:1", LocalPort: 48125}
	b := Flow{Name: "fresh", Mode: UDPFresh, Target: "h:1"}
	if err := UniqueNames(a, b); err != nil {
		t.Errorf("UniqueNames of distinct names: %v", err)
	}
	if err := UniqueNames(); err != nil {
		t.Errorf("UniqueNames(): %v", err)
	}
	// Same name, different mode or target: still one flow to the collector.
	dup := Flow{Name: "pinned", Mode: TCPNew, Target: "h:2"}
	err := UniqueNames(a, b, dup)
	if err == nil || !strings.Contains(err.Error(), `flow name "pinned" given twice`) {
		t.Errorf("UniqueNames with a duplicate = %v, want flow name \"pinned\" given twice", err)
	}
	if args, err := Args(Options{}, a, b, dup); err == nil || args != nil {
		t.Errorf("Args with a duplicate = %q, %v, want an error", args, err)
	}
}
