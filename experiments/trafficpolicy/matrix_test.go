package trafficpolicy

import (
	"strings"
	"testing"
	"time"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/probe"
)

func TestClassify(t *testing.T) {
	ok := func(local, seen string) probe.Sample {
		return probe.Sample{Result: probe.OK, Local: local + ":40000", SeenSource: seen + ":40000", Sent: time.Now()}
	}
	lost := func(r probe.Result) probe.Sample { return probe.Sample{Result: r, Err: "x"} }
	tests := []struct {
		name    string
		samples []probe.Sample
		result  string
		source  string
	}{
		{"all answered, source kept", []probe.Sample{ok("10.244.1.5", "10.244.1.5"), ok("10.244.1.5", "10.244.1.5")}, Reachable, "preserved"},
		{"all answered, SNAT", []probe.Sample{ok("10.244.1.5", "172.18.0.3")}, Reachable, "snat"},
		{"refused", []probe.Sample{lost(probe.Refused), lost(probe.Refused), lost(probe.Timeout)}, Refused, ""},
		{"timeout", []probe.Sample{lost(probe.Timeout), lost(probe.Timeout)}, Timeout, ""},
		{"partial", []probe.Sample{ok("a", "a"), lost(probe.Timeout)}, Partial, "preserved"},
		{"nothing", nil, NA, ""},
	}
	for _, tc := range tests {
		c := classify(tc.samples)
		if c.Result != tc.result || c.SourceIP != tc.source {
			t.Errorf("%s: got %s/%s, want %s/%s", tc.name, c.Result, c.SourceIP, tc.result, tc.source)
		}
	}
}

func TestClassifyResponder(t *testing.T) {
	from := func(pod string) probe.Sample {
		return probe.Sample{Result: probe.OK, Local: "10.244.1.5:1", SeenSource: "10.244.1.5:1", Responder: probe.Identity{Pod: pod}}
	}
	for _, c := range []struct {
		pods []string
		want string
	}{
		{[]string{"web-7d9f-abcde", "web-7d9f-abcde"}, ""},
		{[]string{nodeListenerPrefix + "-1"}, responderNode},
		{[]string{testLBPrefix + "-local", testLBPrefix + "-local"}, responderLB},
	} {
		var s []probe.Sample
		for _, p := range c.pods {
			s = append(s, from(p))
		}
		if got := classify(s); got.Responder != c.want {
			t.Errorf("%v: responder %q, want %q", c.pods, got.Responder, c.want)
		}
	}
	c := Cell{Result: Reachable, SourceIP: "preserved", Responder: responderNode}
	if got := c.Outcome(); got != "reachable (preserved) from the node-local listener" {
		t.Errorf("outcome %q", got)
	}
	if k := (Cell{Client: "a", Target: "b", Policy: "Local", Protocol: "UDP"}).Key(); k != "a → b, policy Local, UDP" {
		t.Errorf("UDP key %q", k)
	}
	if k := (Cell{Client: "a", Target: "b", Policy: "Local", Protocol: "TCP"}).Key(); k != "a → b, policy Local" {
		t.Errorf("TCP key %q (must stay as in earlier reports)", k)
	}
}

func TestWantMatches(t *testing.T) {
	c := Cell{Result: Reachable, SourceIP: "snat"}
	if !(want{outcome: Reachable}).matches(c) {
		t.Error("plain reachable should match any source")
	}
	if (want{outcome: Reachable + " (preserved)"}).matches(c) {
		t.Error("preserved should not match snat")
	}
	if !(want{outcome: Reachable + " (snat)"}).matches(c) {
		t.Error("snat should match snat")
	}
}

func TestConfigHasIPVS(t *testing.T) {
	for _, c := range []struct {
		config string
		want   bool
		detail string
	}{
		{"CONFIG_NETFILTER=y\n# CONFIG_IP_VS is not set\n", false, "CONFIG_IP_VS is not set"},
		{"CONFIG_IP_VS=m\nCONFIG_IP_VS_IPV6=y\n", true, "CONFIG_IP_VS=m (module, not loaded)"},
		{"CONFIG_IP_VS=y\n", true, "CONFIG_IP_VS=y"},
		{"CONFIG_NETFILTER=y\n", false, "CONFIG_IP_VS absent from the kernel configuration"},
	} {
		got, detail := configHasIPVS(strings.NewReader(c.config))
		if got != c.want || detail != c.detail {
			t.Errorf("%q: got %v %q, want %v %q", c.config, got, detail, c.want, c.detail)
		}
	}
}

// The expected matrices are keyed by kube-proxy mode and version; each
// table row names cells that exist in the measured matrix.
func TestExpectedByModeAndVersion(t *testing.T) {
	lb := "pod on node without endpoint → LB IP, policy Local"
	closed := "pod on node with endpoint → LB IP closed port, policy Cluster"
	for _, c := range []struct {
		mode  string
		minor int
		key   string
		want  string // "" = no expectation
	}{
		{"iptables", 34, lb, Reachable},
		{"iptables", 14, lb, Timeout},
		{"nftables", 31, lb, Reachable},
		{"ipvs", 24, lb, Reachable + " (preserved)"},
		{"ipvs", 23, lb, Refused},
		{"iptables", 30, closed, Timeout},
		{"ipvs", 30, closed, Refused},
		{"none", 30, lb, ""},
	} {
		w, ok := Expected(experiments.Environment{KubeProxyMode: c.mode, Minor: c.minor})[c.key]
		if got := map[bool]string{true: w.outcome}[ok]; got != c.want {
			t.Errorf("%s 1.%d %q: expected %q, table says %q", c.mode, c.minor, c.key, c.want, got)
		}
	}
	clients := []string{"pod on node with endpoint", "pod on node without endpoint", "hostNetwork on node with endpoint", "hostNetwork on node without endpoint", "external host"}
	valid := map[string]bool{}
	for _, cl := range clients {
		for _, tg := range Targets {
			for _, p := range Policies {
				for _, proto := range Protocols {
					valid[Cell{Client: cl, Target: tg, Policy: p, Protocol: proto}.Key()] = true
				}
			}
		}
	}
	for _, e := range expected {
		for k := range e.cells() {
			if !valid[k] {
				t.Errorf("expected table %+v names a cell the matrix never measures: %q", e.rule, k)
			}
		}
	}
}
