package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/chaosmesh"
	"github.com/netchaos/netchaos/experiments/hostnetworkflip"
	"github.com/netchaos/netchaos/experiments/networkdrestart"
	"github.com/netchaos/netchaos/experiments/trafficpolicy"
	"github.com/netchaos/netchaos/experiments/udplbrecreate"
	"github.com/netchaos/netchaos/reports"
)

// entry is one runnable experiment with its selection labels.
type entry struct {
	name   string
	labels []string
	// nodeDisruptive experiments change node state (restart node services)
	// and need --allow-node-disruption.
	nodeDisruptive bool
	plan           []string
	// controls are the experiment's control flows (Info.Controls).
	controls []string
	run      func(ctx context.Context, e *experiments.Env, w experiments.Windows) experiments.Result
}

// outage wraps an outage experiment (trigger, observe, mitigate).
func outage(x experiments.Experiment, labels ...string) entry {
	return entry{name: x.Name(), labels: labels, plan: x.Info().Plan, controls: x.Info().Controls, run: func(ctx context.Context, e *experiments.Env, w experiments.Windows) experiments.Result {
		return e.Execute(ctx, x, w)
	}}
}

func catalog() []entry {
	t3 := outage(networkdrestart.New(), "t3", "routing")
	t3.nodeDisruptive = true
	return []entry{
		outage(hostnetworkflip.New(hostnetworkflip.ToHostNetwork), "t1", "conntrack"),
		outage(hostnetworkflip.New(hostnetworkflip.ToHostPort), "t1", "conntrack"),
		outage(udplbrecreate.New(udplbrecreate.LoadBalancer), "t2", "conntrack"),
		outage(udplbrecreate.New(udplbrecreate.NodePort), "t2", "conntrack"),
		outage(udplbrecreate.New(udplbrecreate.ClusterIP), "t2", "conntrack"),
		outage(udplbrecreate.New(udplbrecreate.ScaleToZero), "t2", "conntrack"),
		outage(udplbrecreate.New(udplbrecreate.ScaleToZeroHold), "t2", "conntrack"),
		t3,
		// Generic faults through Chaos Mesh, where it is installed: each
		// reports not applicable (and why) where it, its chaos-daemon or the
		// kernel's netem qdisc is missing.
		outage(chaosmesh.NewPartition(), "chaosmesh"),
		outage(chaosmesh.NewLoss(), "chaosmesh"),
		outage(chaosmesh.NewDelay(), "chaosmesh"),
		outage(chaosmesh.NewPodKill(), "chaosmesh"),
		outage(chaosmesh.NewCNIAgentKill(), "chaosmesh"),
		{name: trafficpolicy.Name, labels: []string{"t4", "policy"}, plan: trafficpolicy.Plan, run: func(ctx context.Context, e *experiments.Env, _ experiments.Windows) experiments.Result {
			return trafficpolicy.Experiment(ctx, e)
		}},
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
		known[e.name] = true
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
		if s == e.name {
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

// controlsOf is the catalog's control flows of an experiment: what a report
// written before reports named them (v1) is judged again with.
func controlsOf(name string) []string {
	for _, e := range catalog() {
		if e.name == name {
			return e.controls
		}
	}
	return nil
}

// load reads a report, marking a v1 report's control flows from the catalog.
func load(path string) (*reports.Report, error) {
	r, err := reports.Load(path)
	if err != nil {
		return nil, err
	}
	r.MarkControls(controlsOf)
	return r, nil
}
