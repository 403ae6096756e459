package netnstest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netchaos/netchaos/probe"
)

const (
	interval = 10 * time.Millisecond
	port     = "9999"
	echoIP   = "10.199.0.2"
	probeIP  = "10.199.0.1"
)

// lab is a pair of namespaces joined by veth, removed at test end.
type lab struct {
	t         *testing.T
	prober    string // namespace names
	responder string
	netchaos  string // binary path
}

// need reports why the test cannot run here, or "" if it can.
func need() string {
	if os.Geteuid() != 0 {
		return "needs root to create network namespaces"
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " is not installed"
		}
	}
	return ""
}

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func newLab(t *testing.T) *lab {
	if why := need(); why != "" {
		if os.Getenv("NETCHAOS_REQUIRE_NETNS") == "1" {
			t.Fatalf("precision test cannot run: %s", why)
		}
		t.Skipf("not applicable here: %s (set NETCHAOS_REQUIRE_NETNS=1 to make this a failure)", why)
	}
	id := fmt.Sprintf("%06x", rand.IntN(1<<24))
	l := &lab{t: t, prober: "nc-p-" + id, responder: "nc-r-" + id}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", l.prober).Run()
		exec.Command("ip", "netns", "del", l.responder).Run()
	})
	sh(t, "ip", "netns", "add", l.prober)
	sh(t, "ip", "netns", "add", l.responder)
	sh(t, "ip", "-n", l.prober, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0", "netns", l.responder)
	sh(t, "ip", "-n", l.prober, "addr", "add", probeIP+"/30", "dev", "veth0")
	sh(t, "ip", "-n", l.responder, "addr", "add", echoIP+"/30", "dev", "veth0")
	for _, ns := range []string{l.prober, l.responder} {
		sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
		sh(t, "ip", "-n", ns, "link", "set", "veth0", "up")
	}
	l.netchaos = filepath.Join(t.TempDir(), "netchaos")
	build := exec.Command("go", "build", "-o", l.netchaos, "github.com/netchaos/netchaos/tools/netchaos")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build netchaos: %v\n%s", err, out)
	}
	return l
}

// start runs the netchaos binary in ns until the test ends.
func (l *lab) start(ctx context.Context, ns string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, l.netchaos}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// drop holds an nftables drop rule for traffic to the echo port in the
// responder namespace for d, and returns the moments the rule was surely in
// place (after add returned, before delete started) and the outer bounds
// (before add started, after delete returned).
func (l *lab) drop(d time.Duration) (inner, outer time.Duration, at time.Time) {
	rules := fmt.Sprintf(`table inet netchaos_precision {
  chain in { type filter hook input priority 0; policy accept;
    udp dport %[1]s drop
    tcp dport %[1]s drop
  }
}`, port)
	t0 := time.Now()
	add := exec.Command("ip", "netns", "exec", l.responder, "nft", "-f", "-")
	add.Stdin = strings.NewReader(rules)
	if out, err := add.CombinedOutput(); err != nil {
		l.t.Fatalf("nft add: %v\n%s", err, out)
	}
	t1 := time.Now()
	time.Sleep(d - t1.Sub(t0))
	t2 := time.Now()
	sh(l.t, "ip", "netns", "exec", l.responder, "nft", "delete", "table", "inet", "netchaos_precision")
	t3 := time.Now()
	return t2.Sub(t1), t3.Sub(t0), t0
}

func TestNetnsPrecision(t *testing.T) {
	l := newLab(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	echo := l.start(ctx, l.responder, "echo", "--udp", ":"+port, "--tcp", ":"+port, "--pod", "echo", "--ip", echoIP)
	echo.Stderr = os.Stderr
	if err := echo.Start(); err != nil {
		t.Fatal(err)
	}
	target := echoIP + ":" + port
	var flows []string
	for _, m := range probe.Modes {
		flows = append(flows, "--flow", fmt.Sprintf("%s/%s/%s", m, m, target))
	}
	prober := l.start(ctx, l.prober, append([]string{"probe", "--rate", "100", "--timeout", "300ms"}, flows...)...)
	var out bytes.Buffer
	prober.Stdout = &out
	prober.Stderr = os.Stderr
	time.Sleep(300 * time.Millisecond) // echo listening
	if err := prober.Start(); err != nil {
		t.Fatal(err)
	}

	durations := []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 1 * time.Second, 3 * time.Second}
	var inj []injection
	time.Sleep(time.Second) // steady state
	for _, d := range durations {
		in, o, at := l.drop(d)
		inj = append(inj, injection{in, o, at})
		time.Sleep(1500 * time.Millisecond) // recover fully before the next
	}
	prober.Process.Signal(os.Interrupt)
	if err := prober.Wait(); err != nil {
		t.Fatalf("prober: %v", err)
	}
	samples := parseSamples(t, out.Bytes())
	names, byFlow := probe.ByFlow(samples)
	if len(names) != len(probe.Modes) {
		t.Fatalf("got flows %v, want %v", names, probe.Modes)
	}
	tol := 2 * interval
	t.Logf("%-11s %9s %18s %10s %8s", "mode", "injected", "bounds", "measured", "error")
	for _, m := range probe.Modes {
		st := probe.Analyze(byFlow[string(m)], nil, time.Time{})
		if !st.Recovered {
			t.Errorf("%s: did not recover", m)
		}
		if m == probe.TCPReused {
			// A kept-alive TCP connection turns a drop into retransmissions:
			// drops shorter than the probe timeout minus the RTO show up as
			// latency, longer ones as an outage that ends on the retransmission
			// timer rather than at the first probe after the path heals. Its
			// outages are real but not the injected length; each must cover at
			// least part of an injected drop.
			for _, o := range st.Outages {
				t.Logf("%-11s outage %v (retransmission-timed)", m, o.Duration().Round(time.Millisecond))
				if !overlapsAny(o, inj) {
					t.Errorf("%s: outage at %v overlaps no injected drop", m, o.Start)
				}
			}
			continue
		}
		if len(st.Outages) != len(inj) {
			t.Errorf("%s: %d outages, want %d: %+v", m, len(st.Outages), len(inj), st.Outages)
			continue
		}
		for i, o := range st.Outages {
			got, in, ou := o.Duration(), inj[i].inner, inj[i].outer
			mid := (in + ou) / 2
			t.Logf("%-11s %9v [%7.1fms,%7.1fms] %10v %+7.1fms", m, durations[i], msf(in), msf(ou), got.Round(time.Microsecond), msf(got-mid))
			if got < in-tol || got > ou+tol {
				t.Errorf("%s outage %d: measured %v outside injected [%v, %v] ± %v", m, i, got, in, ou, tol)
			}
		}
	}
}

type injection struct {
	inner, outer time.Duration
	at           time.Time
}

// overlapsAny reports whether o overlaps one of the injected drops.
func overlapsAny(o probe.Outage, inj []injection) bool {
	for _, in := range inj {
		if o.Start.Before(in.at.Add(in.outer)) && o.End.After(in.at) {
			return true
		}
	}
	return false
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func parseSamples(t *testing.T, b []byte) []probe.Sample {
	var out []probe.Sample
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var s probe.Sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("bad sample line %q: %v", sc.Text(), err)
		}
		out = append(out, s)
	}
	return out
}
