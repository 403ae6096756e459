// Package catalog is the list of experiments netchaos knows: each entry with
// its selection labels, whether it disrupts nodes, its description and a way
// to run it. The CLI, its budgets check and its dry run read it from here;
// adding an experiment is one package implementing experiments.Experiment
// and one line in All.
//
// The package is silent: it prints nothing and logs only through the Env
// its entries run against.
package catalog

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
)

// Entry is one runnable experiment with its selection labels.
type Entry struct {
	Name   string
	Labels []string
	// NodeDisruptive experiments change node state (restart node services):
	// a runner runs them only when told it may.
	NodeDisruptive bool
	// Info describes the experiment: title, trigger, sources, the plan a
	// dry run prints, its control flows and the documented mechanism.
	Info experiments.Info
	// Experiment is the experiment itself.
	Experiment experiments.Experiment
}

// Expected is one row of an expected-outcome table: what should happen to
// a flow (after a marker) or in a cell, and where that comes from.
type Expected struct {
	Case   string // a flow pattern ("*/pinned"), with its marker when not the trigger; or a T4 cell
	Want   string
	Source string
}

// entry is the entry of experiment x with its labels.
func entry(x experiments.Experiment, labels ...string) Entry {
	return Entry{Name: x.Name(), Labels: labels, Info: x.Info(), Experiment: x}
}

// Expected is the expected-outcome table for env: a row per flow pattern
// and marker, and for a survey (experiments.Survey) a row per cell.
func (e Entry) Expected(env experiments.Environment) []Expected {
	var rows []Expected
	for _, w := range e.Experiment.Expectations(env) {
		c := w.Flow
		if w.Marker != "" && w.Marker != "trigger" {
			c += " after " + w.Marker
		}
		rows = append(rows, Expected{Case: c, Want: w.Want(), Source: w.Source})
	}
	if s, ok := e.Experiment.(experiments.Survey); ok {
		for _, c := range s.ExpectedCells(env) {
			rows = append(rows, Expected{Case: c.Case, Want: c.Expected, Source: c.Source})
		}
	}
	return rows
}

// Run runs the experiment against env (experiments.Env.Execute) and
// returns its result.
func (e Entry) Run(ctx context.Context, env *experiments.Env, w experiments.Windows) experiments.Result {
	return env.Execute(ctx, e.Experiment, w)
}

// All is every experiment, in the order a run runs them.
func All() []Entry {
	t3 := entry(networkdrestart.New(), "t3", "routing")
	t3.NodeDisruptive = true
	t3link := entry(networkdrestart.NewLink(), "t3", "routing")
	t3link.NodeDisruptive = true
	return []Entry{
		entry(hostnetworkflip.New(hostnetworkflip.ToHostNetwork), "t1", "conntrack"),
		entry(hostnetworkflip.New(hostnetworkflip.ToHostPort), "t1", "conntrack"),
		entry(udplbrecreate.New(udplbrecreate.LoadBalancer), "t2", "conntrack"),
		entry(udplbrecreate.New(udplbrecreate.NodePort), "t2", "conntrack"),
		entry(udplbrecreate.New(udplbrecreate.ClusterIP), "t2", "conntrack"),
		entry(udplbrecreate.New(udplbrecreate.ScaleToZero), "t2", "conntrack"),
		entry(udplbrecreate.New(udplbrecreate.ScaleToZeroHold), "t2", "conntrack"),
		t3,
		t3link,
		// Generic faults through Chaos Mesh, where it is installed: each
		// reports not applicable (and why) where it, its chaos-daemon or the
		// kernel's netem qdisc is missing.
		entry(chaosmesh.NewPartition(), "chaosmesh"),
		entry(chaosmesh.NewLoss(), "chaosmesh"),
		entry(chaosmesh.NewDelay(), "chaosmesh"),
		entry(chaosmesh.NewPodKill(), "chaosmesh"),
		entry(chaosmesh.NewCNIAgentKill(), "chaosmesh"),
		entry(trafficpolicy.New(), "t4", "policy"),
	}
}

// Select picks the entries whose name or one of whose labels is in sel
// ("all" or empty: everything). Unknown names are an error that lists the
// known ones.
func Select(sel []string) ([]Entry, error) {
	all := All()
	if len(sel) == 0 || (len(sel) == 1 && sel[0] == "all") {
		return all, nil
	}
	known := map[string]bool{}
	for _, e := range all {
		known[e.Name] = true
		for _, l := range e.Labels {
			known[l] = true
		}
	}
	for _, s := range sel {
		if !known[s] {
			return nil, fmt.Errorf("unknown experiment or label %q (known: %s)", s, strings.Join(sorted(known), ", "))
		}
	}
	var out []Entry
	for _, e := range all {
		if e.matchesAny(sel) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Find is the entry named name; an unknown name is an error that lists
// the known ones.
func Find(name string) (Entry, error) {
	names := map[string]bool{}
	for _, e := range All() {
		if e.Name == name {
			return e, nil
		}
		names[e.Name] = true
	}
	return Entry{}, fmt.Errorf("unknown experiment %q (known: %s)", name, strings.Join(sorted(names), ", "))
}

func (e Entry) matchesAny(sel []string) bool {
	for _, s := range sel {
		if s == e.Name {
			return true
		}
		for _, l := range e.Labels {
			if s == l {
				return true
			}
		}
	}
	return false
}

// Controls are the control flows of the experiment named name: what a
// report written before reports named them (v1) is judged again with.
func Controls(name string) []string {
	for _, e := range All() {
		if e.Name == name {
			return e.Info.Controls
		}
	}
	return nil
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
