package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/hostnetworkflip"
	"github.com/netchaos/netchaos/experiments/udplbrecreate"
)

// entry is one runnable experiment with its selection labels.
type entry struct {
	exp    experiments.Experiment
	labels []string
	// nodeDisruptive experiments change node state (restart node services)
	// and need --allow-node-disruption.
	nodeDisruptive bool
}

func catalog() []entry {
	return []entry{
		{exp: hostnetworkflip.New(hostnetworkflip.ToHostNetwork), labels: []string{"t1", "conntrack"}},
		{exp: hostnetworkflip.New(hostnetworkflip.ToHostPort), labels: []string{"t1", "conntrack"}},
		{exp: udplbrecreate.New(udplbrecreate.LoadBalancer), labels: []string{"t2", "conntrack"}},
		{exp: udplbrecreate.New(udplbrecreate.NodePort), labels: []string{"t2", "conntrack"}},
		{exp: udplbrecreate.New(udplbrecreate.ClusterIP), labels: []string{"t2", "conntrack"}},
		{exp: udplbrecreate.New(udplbrecreate.ScaleToZero), labels: []string{"t2", "conntrack"}},
	}
}

// selectExperiments picks catalog entries whose name or one of whose labels
// is in sel ("all" or empty: everything). Unknown names are an error that
// lists the known ones.
func selectExperiments(sel []string) ([]entry, error) {
	all := catalog()
	if len(sel) == 0 || (len(sel) == 1 && sel[0] == "all") {
		return all, nil
	}
	known := map[string]bool{}
	for _, e := range all {
		known[e.exp.Name()] = true
		for _, l := range e.labels {
			known[l] = true
		}
	}
	for _, s := range sel {
		if !known[s] {
			names := make([]string, 0, len(known))
			for k := range known {
				names = append(names, k)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("unknown experiment or label %q (known: %s)", s, strings.Join(names, ", "))
		}
	}
	var out []entry
	for _, e := range all {
		if matchesAny(e, sel) {
			out = append(out, e)
		}
	}
	return out, nil
}

func matchesAny(e entry, sel []string) bool {
	for _, s := range sel {
		if s == e.exp.Name() {
			return true
		}
		for _, l := range e.labels {
			if s == l {
				return true
			}
		}
	}
	return false
}
