package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments/catalog"
)

// explain needs no cluster and says, for every experiment, what the
// catalog knows: trigger, plan, sources, mechanism and expected outcomes.
func TestExplainEveryExperiment(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent")
	for _, e := range catalog.All() {
		var out, errb bytes.Buffer
		if code := run([]string{"explain", e.Name}, &out, &errb); code != 0 {
			t.Errorf("%s: exit %d: %s", e.Name, code, errb.String())
			continue
		}
		s := out.String()
		for _, want := range append([]string{e.Info.Title, e.Info.Trigger, e.Info.Mechanism.Name, e.Info.Mechanism.Mitigation, "Expected outcomes", "CASE"},
			append(e.Info.Plan, e.Info.Sources...)...) {
			if !strings.Contains(s, want) {
				t.Errorf("%s: output lacks %q", e.Name, want)
			}
		}
	}
}

// The expected outcomes follow the environment: T2 expects a recovery
// where kube-proxy clears the un-NATed entry and none under Calico's eBPF
// dataplane before v3.30; one environment can be asked for.
func TestExplainExpectationsByEnvironment(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"explain", "udp-recreate-lb"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	iptables, calico := strings.Index(s, "kube-proxy iptables v1.34"), strings.Index(s, "Calico eBPF")
	if iptables < 0 || calico < iptables || !strings.Contains(s[iptables:calico], "*/pinned  recovers within 15.000 s") || !strings.Contains(s[calico:], "*/pinned  never recovers") {
		t.Errorf("want pinned recovering under kube-proxy, never under Calico eBPF:\n%s", s)
	}
	out.Reset()
	if code := run([]string{"explain", "traffic-policy-matrix", "--proxy-mode", "ipvs", "--minor", "30"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if s := out.String(); !strings.Contains(s, "kube-proxy ipvs v1.30:") || strings.Contains(s, "iptables v1.34:") || !strings.Contains(s, "modelled") {
		t.Errorf("--proxy-mode ipvs --minor 30: want only that environment's (modelled) table:\n%s", s)
	}
}
