package controls

import (
	"strings"
	"testing"

	"github.com/netchaos/netchaos/reports"
)

func TestCheck(t *testing.T) {
	c, ok := Find("T3 networkd restart, drop-in as the fixed twin")
	if !ok {
		t.Fatal("no T3 control")
	}
	caught := reports.Experiment{
		Verdict: reports.Vulnerable,
		Evidence: []reports.Evidence{
			{When: "before trigger", Name: "ip rule"},
			{When: "after trigger", Name: "ip rule", Shows: "per-pod ip rules gone: 512: from all to 10.244.1.7 lookup main"},
			{When: "after drop-in + restart networkd", Name: "ip rule"},
		},
		Flows: []reports.Flow{{Name: "w/egress-udp", Windows: []reports.Window{
			{Marker: "trigger", Verdict: reports.Vulnerable},
			{Marker: "drop-in + restart networkd", Verdict: reports.Resilient},
		}}},
	}
	if bad := c.Check(caught); len(bad) != 0 {
		t.Errorf("caught as it must be: %v", bad)
	}
	for name, tc := range map[string]struct {
		change func(*reports.Experiment)
		want   string
	}{
		"passed":            {func(x *reports.Experiment) { x.Verdict = reports.Resilient }, "verdict resilient, want vulnerable"},
		"no mechanism":      {func(x *reports.Experiment) { x.Evidence[1].Shows = "" }, `no evidence taken after trigger shows "per-pod ip rules gone"`},
		"twin not clean":    {func(x *reports.Experiment) { x.Evidence[2].Shows = "per-pod ip rules gone: …" }, "(after drop-in + restart networkd) shows"},
		"fix not resilient": {func(x *reports.Experiment) { x.Flows[0].Windows[1].Verdict = reports.Degraded }, `after "drop-in + restart networkd": degraded`},
		"fix not measured":  {func(x *reports.Experiment) { x.Flows[0].Windows = x.Flows[0].Windows[:1] }, `has no window after "drop-in + restart networkd"`},
	} {
		x := caught
		x.Evidence = append([]reports.Evidence(nil), caught.Evidence...)
		x.Flows = []reports.Flow{{Name: "w/egress-udp", Windows: append([]reports.Window(nil), caught.Flows[0].Windows...)}}
		tc.change(&x)
		if bad := strings.Join(c.Check(x), "\n"); !strings.Contains(bad, tc.want) {
			t.Errorf("%s: Check said %q, want it to say %q", name, bad, tc.want)
		}
	}
}

func TestTableProfilesAndTwins(t *testing.T) {
	vuln, fixed := map[string]bool{}, map[string]bool{}
	for _, c := range Table {
		if c.Want == reports.Vulnerable {
			vuln[c.Trigger] = true
			if len(c.Signs) == 0 {
				t.Errorf("%s: a positive control must name the mechanism's evidence", c.Name)
			}
		}
		// A fixed twin: a run that must be resilient, or the known
		// mitigation measured in the positive control's own run.
		if c.Want == reports.Resilient || c.Mitigation != "" {
			fixed[c.Trigger] = true
		}
	}
	for _, tr := range []string{"t1", "t2", "t3"} {
		if !vuln[tr] || !fixed[tr] {
			t.Errorf("%s: needs a positive control (%v) and a fixed twin (%v)", tr, vuln[tr], fixed[tr])
		}
	}
}

// The lab switches least in InSwitchOrder: every profile's runs together,
// the default profile's first, the kube-proxy builds' last, nothing lost.
func TestInSwitchOrder(t *testing.T) {
	got := InSwitchOrder()
	if len(got) != len(Table) {
		t.Fatalf("%d controls, Table has %d", len(got), len(Table))
	}
	var order []string
	for _, c := range got {
		if len(order) == 0 || order[len(order)-1] != c.Profile {
			order = append(order, c.Profile)
		}
	}
	want := []string{"default", "vpc-like", "portmap-v0.8.7", "kube-proxy-no-ct-cleanup", "kube-proxy-v1.31"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("profiles in the order %v, want %v (each once, default first)", order, want)
	}
}
