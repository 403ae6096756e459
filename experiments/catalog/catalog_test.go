package catalog

import (
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments"
)

// Every entry is named once, labelled, described and runs the experiment
// of its name.
func TestEntriesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range All() {
		if seen[e.Name] {
			t.Errorf("%s listed twice", e.Name)
		}
		seen[e.Name] = true
		if len(e.Labels) == 0 || e.Info.Title == "" || len(e.Info.Plan) == 0 {
			t.Errorf("%s: labels %v, title %q, %d plan lines", e.Name, e.Labels, e.Info.Title, len(e.Info.Plan))
		}
		if e.Experiment == nil || e.Experiment.Name() != e.Name {
			t.Errorf("entry %s runs experiment %v", e.Name, e.Experiment)
		}
		if len(e.Expected(experiments.Environment{KubeProxyMode: "iptables", Minor: 34, KubeProxyVersion: "v1.34.2"})) == 0 {
			t.Errorf("%s: no expected outcomes for kube-proxy iptables v1.34", e.Name)
		}
	}
}

// Selection is by name or label; "all" and nothing select everything; an
// unknown name is an error listing the known names and labels.
func TestSelect(t *testing.T) {
	all := All()
	for _, sel := range [][]string{nil, {"all"}} {
		if got, err := Select(sel); err != nil || len(got) != len(all) {
			t.Errorf("%q: %d entries, %v; want all %d", sel, len(got), err, len(all))
		}
	}
	got, err := Select([]string{"t3", "hostport-to-hostnetwork"})
	if err != nil || len(got) != 3 || got[0].Name != "hostport-to-hostnetwork" || got[1].Name != "networkd-restart" || got[2].Name != "networkd-newlink" || !got[1].NodeDisruptive || !got[2].NodeDisruptive {
		t.Errorf("t3 and hostport-to-hostnetwork: %v, %v; want hostport-to-hostnetwork and both T3 triggers, in catalog order, T3 node-disruptive", got, err)
	}
	_, err = Select([]string{"t1", "t9"})
	if err == nil || !strings.Contains(err.Error(), `unknown experiment or label "t9"`) || !strings.Contains(err.Error(), "conntrack, ") {
		t.Errorf("unknown label: %v", err)
	}
	if _, err := Find("t1"); err == nil || !strings.Contains(err.Error(), "hostport-to-hostnetwork") {
		t.Errorf("Find of a label: %v; want an error listing the names", err)
	}
	if e, err := Find(all[0].Name); err != nil || e.Name != all[0].Name {
		t.Errorf("Find %s: %v", all[0].Name, err)
	}
}

// The Chaos Mesh faults are selectable by name and together by their label,
// and each plans its fault with a time limit.
func TestChaosMesh(t *testing.T) {
	want := []string{"chaosmesh-partition", "chaosmesh-loss", "chaosmesh-delay", "chaosmesh-pod-kill", "chaosmesh-cni-agent-kill"}
	got, err := Select([]string{"chaosmesh"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("label chaosmesh selects %d experiments, want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.Name != want[i] {
			t.Errorf("entry %d is %s, want %s", i, e.Name, want[i])
		}
		if e.NodeDisruptive {
			t.Errorf("%s is marked node-disruptive", e.Name)
		}
		fault := e.Info.Plan[len(e.Info.Plan)-1]
		if !strings.HasPrefix(fault, "fault: ") || !strings.Contains(fault, "duration 20s") {
			t.Errorf("%s: last plan line %q does not state the fault and its duration", e.Name, fault)
		}
		if one, err := Select([]string{e.Name}); err != nil || len(one) != 1 {
			t.Errorf("select %s: %v (%d entries)", e.Name, err, len(one))
		}
	}
}

// A v1 report's control flows come from the catalog; T4 has none.
func TestControls(t *testing.T) {
	if got := Controls("hostport-to-hostnetwork"); strings.Join(got, " ") != "*/fresh */service" {
		t.Errorf("T1 controls %v", got)
	}
	if got := Controls("traffic-policy-matrix"); got != nil {
		t.Errorf("T4 controls %v, want none", got)
	}
}
