package experiments

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// LabelZone is the well-known label of a node's zone.
const LabelZone = "topology.kubernetes.io/zone"

// DefaultSample is how many worker nodes a run uses unless told otherwise:
// enough for a node with and one without an endpoint and a third, and few
// enough that a 300-node cluster does not get 300 probe clients.
const DefaultSample = 3

// Sample narrows the environment to the nodes a run uses: the control-plane
// nodes it can see, and at most n workers matching selector (nil: any),
// spread over zones (one per zone in turn, by name within a zone). A run's
// DaemonSets then run on these nodes only (Placement). n <= 0 keeps every
// matching worker.
func (e Environment) Sample(n int, selector labels.Selector) (Environment, error) {
	if selector == nil {
		selector = labels.Everything()
	}
	byZone := map[string][]Node{}
	var zones []string
	var out []Node
	for _, nd := range e.Nodes {
		if nd.ControlPlane {
			out = append(out, nd)
			continue
		}
		if !selector.Matches(labels.Set(nd.Labels)) {
			continue
		}
		if _, ok := byZone[nd.Zone]; !ok {
			zones = append(zones, nd.Zone)
		}
		byZone[nd.Zone] = append(byZone[nd.Zone], nd)
	}
	sort.Strings(zones)
	var workers []Node
	for len(workers) < n || n <= 0 {
		took := false
		for _, z := range zones {
			if len(byZone[z]) > 0 && (n <= 0 || len(workers) < n) {
				workers = append(workers, byZone[z][0])
				byZone[z] = byZone[z][1:]
				took = true
			}
		}
		if !took {
			break
		}
	}
	if len(workers) == 0 {
		return e, fmt.Errorf("no worker node matches %q", selector.String())
	}
	sort.Slice(workers, func(i, j int) bool { return workers[i].Name < workers[j].Name })
	if e.AllNodes == 0 {
		e.AllNodes = len(e.Nodes)
	}
	e.Nodes = append(out, workers...)
	if len(e.Nodes) < e.AllNodes {
		var names []string
		for _, w := range workers {
			names = append(names, w.Name)
		}
		e.Notes = append(e.Notes, fmt.Sprintf("sampled %d of %d nodes: the control plane and workers %s", len(e.Nodes), e.AllNodes, strings.Join(names, ", ")))
	}
	return e, nil
}

// Placement is the affinity that keeps a run's pods on its sampled nodes;
// nil when the run uses every node.
func (e Environment) Placement() *corev1.Affinity {
	if e.AllNodes == 0 || len(e.Nodes) >= e.AllNodes {
		return nil
	}
	var names []string
	for _, n := range e.Nodes {
		names = append(names, n.Name)
	}
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: names},
		}}},
	}}}
}
