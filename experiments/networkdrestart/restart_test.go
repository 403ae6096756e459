package networkdrestart

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments"
)

// The mechanism's evidence names the plugin's and ipamd's rules that
// vanished, from what the plugin installed (the recorded fixture).
func TestRulesGone(t *testing.T) {
	before := ParseRules(fixture(t, "02-add.ip-rule.txt"))
	x := &trial{client: PodRoutingOf(before, nil, "10.0.16.2"), nodeRules: NodeRules(before)}
	if got := x.rulesGone(fixture(t, "02-add.ip-rule.txt")); got != "" {
		t.Errorf("all rules present: got %q", got)
	}
	got := x.rulesGone("0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n")
	for _, want := range []string{"per-pod ip rules gone: 512: from all to 10.0.16.2 lookup main, 1536: from 10.0.16.2 lookup 2",
		"ipamd's node rules gone: 1024: from all fwmark 0x80/0x80 lookup main, 32765: from 10.0.16.10 lookup 2"} {
		if !strings.Contains(got, want) {
			t.Errorf("flushed: %q lacks %q", got, want)
		}
	}
	// After "re-add pod rules" only ipamd's are missing.
	readded := "0:\tfrom all lookup local\n512:\tfrom all to 10.0.16.2 lookup main\n1536:\tfrom 10.0.16.2 lookup 2\n32766:\tfrom all lookup main\n"
	if got := x.rulesGone(readded); strings.Contains(got, "per-pod") || !strings.Contains(got, "1024") {
		t.Errorf("pod rules back, 1024 not: %q", got)
	}
	other := strings.ReplaceAll(fixture(t, "02-add.ip-rule.txt"), "10.0.16.2", "10.0.16.3")
	if got := x.rulesGone(other); !strings.Contains(got, "per-pod ip rules gone") {
		t.Error("another pod's rules must not count as this pod's")
	}
}

func TestApplies(t *testing.T) {
	workers := []experiments.Node{{Name: "a"}, {Name: "b"}}
	for _, c := range []struct {
		env  experiments.Environment
		want bool
		why  string
	}{
		{experiments.Environment{Provider: "kind", Nodes: workers}, true, ""},
		{experiments.Environment{Provider: "eks", CNI: cniAWS, Nodes: workers}, true, ""},
		{experiments.Environment{Provider: "eks", CNI: "cilium", Nodes: workers}, false, "not the AWS VPC CNI"},
		{experiments.Environment{Provider: "gke", Nodes: workers}, false, "needs the AWS VPC CNI"},
		{experiments.Environment{Provider: "eks", CNI: cniAWS, Nodes: workers[:1]}, false, "two worker nodes"},
	} {
		ok, why := New().Applies(c.env)
		if ok != c.want || !strings.Contains(why, c.why) {
			t.Errorf("%s/%s: got %v %q, want %v %q", c.env.Provider, c.env.CNI, ok, why, c.want, c.why)
		}
	}
}

// Every flow has an expectation after the trigger and after every
// mitigation, and the controls are the host-network flows.
func TestEveryFlowIsExpectedInEveryWindow(t *testing.T) {
	for _, x := range []*Restart{New(), NewLink()} {
		t.Run(x.Name(), func(t *testing.T) { everyFlowExpected(t, x) })
	}
}

func everyFlowExpected(t *testing.T, x *Restart) {
	exps := x.Expectations(experiments.Environment{Provider: "kind"})
	markers := []string{"trigger"}
	for _, m := range x.Mitigations() {
		markers = append(markers, m.Name)
	}
	tr := &trial{peer: experiments.Node{IP: "172.18.0.3"}, node: experiments.Node{IP: "172.18.0.2"}, peerEcho: "10.244.2.5", nodePort: 30001}
	for _, f := range tr.flows() {
		name := "netchaos-worker/" + f.flow.Name
		for _, m := range markers {
			if _, ok := experiments.For(exps, m, name); !ok {
				t.Errorf("no expectation for %s after %s", name, m)
			}
		}
		control := strings.HasPrefix(f.flow.Name, "ctl-")
		if matched := slices.ContainsFunc(x.Info().Controls, func(p string) bool { return matches(p, name) }); matched != control {
			t.Errorf("%s: control %v, want %v", name, matched, control)
		}
	}
}

// The CNI's links for the Unmanaged=yes mitigation: the host veths and the
// ENIs the victims' tables route by.
func TestCNILinks(t *testing.T) {
	rules, routes := ParseRules(fixture(t, "02-add.ip-rule.txt")), ParseRoutes(fixture(t, "02-add.ip-route.txt"))
	eks := &trial{client: PodRoutingOf(rules, routes, "10.0.16.2")}
	if got := eks.cniLinks(); !slices.Equal(got, []string{"eni*", "eth1"}) {
		t.Errorf("EKS: %v", got)
	}
	if got := (&trial{kind: true}).cniLinks(); !slices.Equal(got, []string{"eni*", eniLink}) {
		t.Errorf("kind: %v", got)
	}
}

func matches(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// The new-link trigger is kind's: on EKS it would need a .network file of
// its own on the node.
func TestNewLinkAppliesOnKindOnly(t *testing.T) {
	workers := []experiments.Node{{Name: "a"}, {Name: "b"}}
	if ok, why := NewLink().Applies(experiments.Environment{Provider: "kind", Nodes: workers}); !ok {
		t.Errorf("kind: %s", why)
	}
	if ok, why := NewLink().Applies(experiments.Environment{Provider: "eks", CNI: cniAWS, Nodes: workers}); ok || !strings.Contains(why, "kind only") {
		t.Errorf("eks: %v %q", ok, why)
	}
	if New().Name() == NewLink().Name() || !strings.Contains(NewLink().Info().Trigger, hotLink+"0") {
		t.Error("the two triggers are two experiments")
	}
}

// The report says what is real and what is stood in: on kind every
// stand-in by name, on EKS none.
func TestRealAndStoodIn(t *testing.T) {
	kind := realAndStoodIn(true)
	for _, want := range []string{"aws-cni", "pkg/networkutils", "ipamd-standin", eniLink, guardTable, "rp_filter", managedLink} {
		if !strings.Contains(kind, want) {
			t.Errorf("kind: %q not named", want)
		}
	}
	if eks := realAndStoodIn(false); !strings.Contains(eks, "stood in: nothing") {
		t.Errorf("eks: %q", eks)
	}
}

// Each experiment's plan names its own namespace and every node change
// its scripts make.
func TestPlanNamesEveryNodeChange(t *testing.T) {
	for _, x := range []*Restart{New(), NewLink()} {
		plan := strings.Join(x.Info().Plan, "\n")
		for _, want := range []string{"netchaos-" + x.Name() + "-<run>", ipamdUnit, conflist, eniLink, managedLink, guardTable, "rp_filter", "sysfs", "udev", eniGateway, "timer"} {
			if !strings.Contains(plan, want) {
				t.Errorf("%s: plan does not name %q", x.Name(), want)
			}
		}
	}
	if !strings.Contains(strings.Join(NewLink().Info().Plan, "\n"), hotLink+"0") {
		t.Error("the new-link plan does not name its link")
	}
}
