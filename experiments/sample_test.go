package experiments

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

func TestSample(t *testing.T) {
	var e Environment
	e.Nodes = append(e.Nodes, Node{Name: "cp", ControlPlane: true})
	for i := range 300 {
		zone := fmt.Sprintf("zone-%c", 'a'+i%3)
		pool := "general"
		if i%10 == 0 {
			pool = "gpu"
		}
		e.Nodes = append(e.Nodes, Node{Name: fmt.Sprintf("w%03d", i), Zone: zone, Labels: map[string]string{"pool": pool}})
	}
	s, err := e.Sample(DefaultSample, nil)
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]bool{}
	for _, n := range s.Workers() {
		zones[n.Zone] = true
	}
	if len(s.Workers()) != 3 || len(zones) != 3 || len(s.Nodes) != 4 || s.AllNodes != 301 {
		t.Fatalf("sample %+v: want the control plane and 3 workers, one per zone, of 301", s.Nodes)
	}
	if a := s.Placement(); a == nil || len(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values) != 4 {
		t.Fatalf("placement %+v: want the 4 sampled nodes", a)
	}
	gpu, _ := labels.Parse("pool=gpu")
	g, err := e.Sample(5, gpu)
	if err != nil || len(g.Workers()) != 5 {
		t.Fatalf("selector: %v, %d workers", err, len(g.Workers()))
	}
	for _, n := range g.Workers() {
		if n.Labels["pool"] != "gpu" {
			t.Errorf("%s is not in pool gpu", n.Name)
		}
	}
	none, _ := labels.Parse("pool=nope")
	if _, err := e.Sample(3, none); err == nil {
		t.Error("a selector matching no worker must be an error")
	}
	small := Environment{Nodes: []Node{{Name: "cp", ControlPlane: true}, {Name: "w1"}, {Name: "w2"}}}
	k, _ := small.Sample(DefaultSample, nil)
	if k.Placement() != nil || len(k.Nodes) != 3 || len(k.Notes) != 0 {
		t.Errorf("a cluster smaller than the sample keeps every node and no affinity: %+v", k)
	}
}
