package trafficpolicy

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments"
)

// Every recorded model loads, was recorded from the current scenario and
// release with its variant's patches, and walks without error. A scenario
// or variant edit without `go run ./tools/ipvsmodel` fails here.
func TestIPVSModelsLoad(t *testing.T) {
	for _, v := range IPVSVariants {
		m, err := LoadIPVSModel(v.File)
		if err != nil {
			t.Fatalf("%s: %v", v.File, err)
		}
		if m.Kubernetes != ModelKubernetes || m.Variant != v.Variant || !slices.Equal(m.Patches, v.Patches) {
			t.Errorf("%s was recorded from %s %q %v; the variant is %s %q %v (regenerate: go run ./tools/ipvsmodel)",
				v.File, m.Kubernetes, m.Variant, m.Patches, ModelKubernetes, v.Variant, v.Patches)
		}
		if !reflect.DeepEqual(m.Scenario, Scenario()) {
			t.Errorf("%s was recorded from another scenario than Scenario() (regenerate: go run ./tools/ipvsmodel)", v.File)
		}
		cells, err := m.Cells()
		if err != nil {
			t.Fatalf("%s: %v", v.File, err)
		}
		if want := 5 * len(Policies) * len(Protocols) * len(Targets); len(cells) != want {
			t.Errorf("%s: %d cells, want %d", v.File, len(cells), want)
		}
		for _, c := range cells {
			if c.Result != NA && c.Note == "" {
				t.Errorf("%s %s: no walk recorded", v.File, c.Key())
			}
		}
	}
}

// seedClaims are the IPVS cells as the seed article (Alibaba ACK, IPVS,
// 1.22 -> 1.24) and upstream describe them, written by hand. The model,
// derived from kube-proxy's code, must agree with every one; a claim the
// model contradicts fails the test (fix the model, the scenario, or the
// claim — with a reason).
var seedClaims = []struct {
	variant string   // IPVSVariants file
	key     string   // cell
	oneOf   []string // acceptable Outcome()s
	source  string
}{
	// Before v1.24: a node without a local endpoint has a virtual server with no real server.
	{"v1.34.2-before-97081.json", "pod on node without endpoint → LB IP, policy Local", []string{Refused},
		"article: before 1.24 the backend list is empty, in-cluster access is refused"},
	{"v1.34.2-before-97081.json", "hostNetwork on node without endpoint → LB IP, policy Local", []string{Refused, Timeout},
		"article: from node .210 (no endpoint) the SLB is not reachable"},
	{"v1.34.2-before-97081.json", "hostNetwork on node without endpoint → NodePort own node, policy Local", []string{Refused, Timeout},
		"article: from node .210 its own NodePort 31565 is not reachable, no IPVS rule to DNAT"},
	{"v1.34.2-before-97081.json", "pod on node with endpoint → LB IP, policy Local", []string{Reachable + " (preserved)"},
		"article: on a node with an endpoint the SLB is reachable and the source kept"},
	{"v1.34.2-before-97081.json", "hostNetwork on node with endpoint → LB IP, policy Local", []string{Reachable + " (preserved)", Reachable + " (snat)"},
		"article: from node .209 (endpoint) the SLB 8.222.252.252:80 is reachable"},
	{"v1.34.2-before-97081.json", "external host → NodePort other node, policy Local", []string{Reachable + " (preserved)"},
		"article: outside -> NodePort of a node with an endpoint works, source kept"},
	{"v1.34.2-before-97081.json", "external host → NodePort own node, policy Local", []string{Refused, Timeout},
		"article: outside -> NodePort of a node without an endpoint fails, no IPVS rule"},
	// v1.24 and later (#97081).
	{"v1.34.2-before-108460.json", "pod on node without endpoint → LB IP, policy Local", []string{Reachable + " (preserved)", Reachable + " (snat)"},
		"article and kubernetes#97081: from 1.24 the virtual server of a node without an endpoint holds every endpoint"},
	{"v1.34.2.json", "pod on node without endpoint → LB IP, policy Local", []string{Reachable + " (preserved)", Reachable + " (snat)"},
		"kubernetes#97081"},
	{"v1.34.2.json", "hostNetwork on node without endpoint → LB IP, policy Local", []string{Timeout},
		"article: the node times out on the SLB IP (source is the SLB IP, nobody SNATs); uablrek in #93456: hostNetwork still broken"},
	{"v1.34.2.json", "hostNetwork on node without endpoint → NodePort own node, policy Local", []string{Reachable + " (preserved)"},
		"article: the node reaches its own NodePort (source is the node IP, no SNAT needed)"},
	{"v1.34.2.json", "hostNetwork on node with endpoint → NodePort other node, policy Local", []string{Timeout},
		"article: a node with an endpoint cannot reach the NodePort of a node without one (the reply bypasses it)"},
	{"v1.34.2.json", "external host → NodePort own node, policy Local", []string{Timeout},
		"article (Terway ENIIP / host network): outside -> NodePort of a node without an endpoint fails, the reply has the pod's address; kube-proxy's own comment in syncEndpoint"},
	// Ports of the LB IP with no virtual service (the article's :443).
	{"v1.34.2.json", "pod on node with endpoint → LB IP closed port, policy Cluster", []string{Refused},
		"article: in-cluster access to 192.168.1.200:443 is refused (no IPVS rule, the IP is on kube-ipvs0)"},
	{"v1.34.2-before-97081.json", "pod on node without endpoint → LB IP closed port, policy Cluster", []string{Refused},
		"article: other ports of the SLB are refused from inside too"},
	{"v1.34.2-before-108460.json", "pod on node with endpoint → LB IP node-listener port, policy Cluster", []string{Reachable + " (preserved) from the " + responderNode},
		"article: with no IPVS rule but a local process on 0.0.0.0:443, the node's own service answers"},
	{"v1.34.2.json", "pod on node with endpoint → LB IP node-listener port, policy Cluster", []string{Refused},
		"kubernetes#108460 (v1.26): KUBE-IPVS-FILTER rejects new connections to other ports of kube-ipvs0 addresses"},
	// ipMode: Proxy (KEP-1860): nothing bound, in-cluster clients go to the load balancer.
	{"v1.34.2.json", "pod on node without endpoint → ipMode Proxy LB IP, policy Local", []string{Reachable + " (snat)"},
		"KEP-1860: kube-proxy neither binds nor captures a Proxy-mode address; the load balancer relays (its address is the source)"},
	{"v1.34.2.json", "hostNetwork on node without endpoint → ipMode Proxy LB IP, policy Local", []string{Reachable + " (snat)"},
		"KEP-1860; the #93456 cell works through the load balancer"},
	{"v1.34.2.json", "pod on node with endpoint → ipMode Proxy LB IP closed port, policy Cluster", []string{Reachable + " (preserved) from the " + responderLB},
		"KEP-1860: the load balancer's other listeners answer in-cluster clients (the article's fix: the hostname annotation)"},
}

func TestIPVSModelAgreesWithTheSeed(t *testing.T) {
	cells := map[string]map[string]Cell{}
	for _, v := range IPVSVariants {
		m, err := LoadIPVSModel(v.File)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := m.Cells()
		if err != nil {
			t.Fatal(err)
		}
		cells[v.File] = map[string]Cell{}
		for _, c := range cs {
			cells[v.File][c.Key()] = c
		}
	}
	for _, cl := range seedClaims {
		c, ok := cells[cl.variant][cl.key]
		if !ok {
			t.Errorf("%s: the model has no cell %q", cl.variant, cl.key)
			continue
		}
		if !slices.Contains(cl.oneOf, c.Outcome()) {
			t.Errorf("%s %q: model says %q, hand-written row says one of %q (%s)\n  walk: %s", cl.variant, cl.key, c.Outcome(), cl.oneOf, cl.source, c.Note)
		}
		// UDP walks the same rules: the same outcome.
		if u := cells[cl.variant][cl.key+", UDP"]; u.Outcome() != c.Outcome() {
			t.Errorf("%s %q: UDP %q differs from TCP %q", cl.variant, cl.key, u.Outcome(), c.Outcome())
		}
	}
}

// The expected table of an IPVS cluster is the model of its version.
func TestExpectedIPVSIsTheModel(t *testing.T) {
	key := "pod on node without endpoint → LB IP, policy Local"
	for _, c := range []struct {
		minor int
		want  string
	}{{34, Reachable + " (preserved)"}, {26, Reachable + " (preserved)"}, {24, Reachable + " (preserved)"}, {23, Refused}, {21, Refused}} {
		w, ok := Expected(experiments.Environment{KubeProxyMode: "ipvs", Minor: c.minor})[key]
		if !ok || w.outcome != c.want {
			t.Errorf("ipvs 1.%d: %q expected %q, table says %q", c.minor, key, c.want, w.outcome)
		}
		if !strings.HasPrefix(w.source, "modelled from kube-proxy "+ModelKubernetes) {
			t.Errorf("ipvs 1.%d: source %q does not say it is modelled", c.minor, w.source)
		}
	}
	listener := "pod on node with endpoint → LB IP node-listener port, policy Cluster"
	if got := Expected(experiments.Environment{KubeProxyMode: "ipvs", Minor: 25})[listener].outcome; got != Reachable+" (preserved) from the "+responderNode {
		t.Errorf("ipvs 1.25 %q: %q", listener, got)
	}
	if got := Expected(experiments.Environment{KubeProxyMode: "ipvs", Minor: 26})[listener].outcome; got != Refused {
		t.Errorf("ipvs 1.26 %q: %q", listener, got)
	}
}
