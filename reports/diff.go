package reports

import (
	"fmt"
	"io"
	"sort"
)

// Change is one difference between two reports.
type Change struct {
	Experiment string `json:"experiment"`
	What       string `json:"what"` // verdict, flow check or matrix case
	Before     string `json:"before"`
	After      string `json:"after"`
	// Better, Worse or neither (a change of behaviour that is not ranked).
	Direction string `json:"direction,omitempty"`
}

// Delta is what changed from one report to another: the pre-upgrade gate's
// answer to "which cells change on upgrade?".
type Delta struct {
	Before, After Environment
	Changes       []Change
	Same          int // compared items that did not change
}

// Diff compares b (after) with a (before), experiment by experiment: the
// verdict, each flow's outcome after each marker, and each matrix cell.
func Diff(a, b *Report) Delta {
	d := Delta{Before: a.Environment, After: b.Environment}
	prev := map[string]Experiment{}
	for _, e := range a.Experiments {
		prev[e.Name] = e
	}
	for _, e := range b.Experiments {
		p, ok := prev[e.Name]
		if !ok {
			d.Changes = append(d.Changes, Change{Experiment: e.Name, What: "experiment", Before: "not run", After: string(e.Verdict)})
			continue
		}
		delete(prev, e.Name)
		d.cmp(e.Name, "verdict", string(p.Verdict), string(e.Verdict), rankVerdict)
		before := map[string]string{}
		for _, f := range p.Flows {
			for _, c := range f.Checks {
				before[f.Name+" after "+c.Marker] = c.Outcome
			}
		}
		for _, f := range e.Flows {
			for _, c := range f.Checks {
				k := f.Name + " after " + c.Marker
				if old, ok := before[k]; ok {
					d.cmp(e.Name, k, old, c.Outcome, rankOutcome)
				}
			}
		}
		cells := map[string]string{}
		for _, c := range p.Cells {
			cells[c.Case] = c.Observed
		}
		for _, c := range e.Cells {
			if old, ok := cells[c.Case]; ok {
				d.cmp(e.Name, c.Case, old, c.Observed, nil)
			} else {
				d.Changes = append(d.Changes, Change{Experiment: e.Name, What: c.Case, Before: "not measured", After: c.Observed})
			}
		}
	}
	names := make([]string, 0, len(prev))
	for n := range prev {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d.Changes = append(d.Changes, Change{Experiment: n, What: "experiment", Before: string(prev[n].Verdict), After: "not run"})
	}
	return d
}

func (d *Delta) cmp(exp, what, before, after string, rank map[string]int) {
	if before == after {
		d.Same++
		return
	}
	c := Change{Experiment: exp, What: what, Before: before, After: after}
	if rank != nil {
		switch {
		case rank[after] > rank[before]:
			c.Direction = "worse"
		case rank[after] < rank[before]:
			c.Direction = "better"
		}
	}
	d.Changes = append(d.Changes, c)
}

var rankVerdict = map[string]int{"pass": 0, "not-applicable": 0, "finding": 1, "fail": 2, "error": 3}
var rankOutcome = map[string]int{"no outage": 0, "recovers": 1, "never recovers": 2, "never reached": 3}

// DiffMarkdown renders a Delta.
func DiffMarkdown(w io.Writer, d Delta) error {
	p := &printer{w: w}
	p.f("# netchaos: what changed\n\nBefore: Kubernetes %s, kube-proxy %s, CNI %s (%s).  \nAfter: Kubernetes %s, kube-proxy %s, CNI %s (%s).\n\n",
		d.Before.KubernetesVersion, d.Before.KubeProxyMode, d.Before.CNI, d.Before.Provider,
		d.After.KubernetesVersion, d.After.KubeProxyMode, d.After.CNI, d.After.Provider)
	if len(d.Changes) == 0 {
		p.f("Nothing changed (%d items compared).\n", d.Same)
		return p.err
	}
	p.f("%d changed, %d unchanged.\n\n| Experiment | What | Before | After | |\n|---|---|---|---|---|\n", len(d.Changes), d.Same)
	for _, c := range d.Changes {
		p.f("| %s | %s | %s | %s | %s |\n", c.Experiment, cellText(c.What), cellText(c.Before), cellText(c.After), c.Direction)
	}
	return p.err
}

// String is a one-line summary.
func (d Delta) String() string {
	return fmt.Sprintf("%d changed, %d unchanged", len(d.Changes), d.Same)
}
