package reports

import (
	"sort"
	"strings"
)

// nodeNames rewrites the node names flows are keyed by ("<node>/<flow>") to
// what identifies the node across two clusters: the name without the prefix
// every node of the cluster shares. kind names nodes <cluster>-control-plane,
// <cluster>-worker, <cluster>-worker2, so the same node of a v1.30 and a v1.34
// cluster compare as control-plane, worker, worker2. "external" (the
// runner's host) is not a node.
func nodeNames(r *Report) *strings.Replacer {
	seen := map[string]bool{}
	for _, e := range r.Experiments {
		for _, f := range e.Flows {
			if n, _, ok := strings.Cut(f.Name, "/"); ok && n != "external" {
				seen[n] = true
			}
		}
	}
	if len(seen) < 2 {
		return strings.NewReplacer()
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	prefix := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	// Cut at the last separator so "worker" and "worker2" keep their stem.
	prefix = prefix[:strings.LastIndexAny(prefix, "-.")+1]
	if prefix == "" {
		return strings.NewReplacer()
	}
	// Longest names first: "x-worker2/" must not be rewritten as "x-worker"+"2/".
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	var pairs []string
	for _, n := range names {
		pairs = append(pairs, n+"/", strings.TrimPrefix(n, prefix)+"/")
	}
	return strings.NewReplacer(pairs...)
}

// canonical returns a copy of r's experiments with node names rewritten by
// nodeNames, for comparison with another cluster's report.
func canonical(r *Report) []Experiment {
	rep := nodeNames(r)
	out := make([]Experiment, len(r.Experiments))
	for i, e := range r.Experiments {
		e.Flows = append([]Flow(nil), e.Flows...)
		for j := range e.Flows {
			e.Flows[j].Name = rep.Replace(e.Flows[j].Name)
		}
		e.Expectations = append([]Expectation(nil), e.Expectations...)
		for j := range e.Expectations {
			e.Expectations[j].Case = rep.Replace(e.Expectations[j].Case)
		}
		out[i] = e
	}
	return out
}
