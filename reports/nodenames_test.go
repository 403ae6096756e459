package reports

import "testing"

func TestNodeNamesLineUpAcrossClusters(t *testing.T) {
	for _, c := range []struct {
		nodes []string
		in    string
		want  string
	}{
		{[]string{"netchaos-control-plane", "netchaos-worker", "netchaos-worker2"}, "netchaos-worker2/pinned after trigger", "worker2/pinned after trigger"},
		{[]string{"netchaos-v130-control-plane", "netchaos-v130-worker", "netchaos-v130-worker2"}, "netchaos-v130-worker/pinned", "worker/pinned"},
		{[]string{"netchaos-v130-control-plane", "netchaos-v130-worker", "netchaos-v130-worker2"}, "external/pinned", "external/pinned"},
		{[]string{"ip-10-0-1-5.ec2.internal", "ip-10-0-2-7.ec2.internal"}, "ip-10-0-2-7.ec2.internal/fresh", "2-7.ec2.internal/fresh"},
		{[]string{"only-node"}, "only-node/fresh", "only-node/fresh"},
	} {
		r := &Report{}
		e := Experiment{Name: "x"}
		for _, n := range c.nodes {
			e.Flows = append(e.Flows, Flow{Name: n + "/fresh"})
		}
		r.Experiments = []Experiment{e}
		if got := nodeNames(r).Replace(c.in); got != c.want {
			t.Errorf("%v: %q -> %q, want %q", c.nodes, c.in, got, c.want)
		}
	}
}
