package reports

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// Change is one difference between two reports.
type Change struct {
	Experiment string `json:"experiment"`
	// What is "verdict", an expectation's case, or "longest outage of <flow>".
	What   string `json:"what"`
	Before string `json:"before"`
	After  string `json:"after"`
	// Direction is Better, Worse or empty (a change that is not ranked).
	Direction string `json:"direction,omitempty"`
}

// Directions of a Change.
const (
	Better = "better"
	Worse  = "worse"
)

// Delta is what changed from one report to another: the pre-upgrade gate's
// answer to "which cells change on upgrade?".
type Delta struct {
	Before, After Env
	Changes       []Change
	// Same counts the compared items that did not change.
	Same int
}

// Diff compares b (after) with a (before), experiment by experiment (in b's
// order, then experiments only a ran, by name): the verdict, each
// expectation's observed cell (by case), and each flow's longest outage (by
// flow name). A longest outage counts as changed when it opened or closed,
// or moved by more than 10 % and more than 50 ms (probe jitter is not a
// change). Node names in flow names are compared without the prefix all of a
// cluster's nodes share (see nodeNames), so two clusters' nodes line up. Verdicts and longest outages are ranked better or worse;
// observed cells are not (leaving the expected table can be good news). Pure.
func Diff(a, b *Report) Delta {
	d := Delta{Before: a.Environment, After: b.Environment}
	prev := map[string]Experiment{}
	for _, e := range canonical(a) {
		prev[e.Name] = e
	}
	for _, e := range canonical(b) {
		p, ok := prev[e.Name]
		if !ok {
			d.add(e.Name, "experiment", "not run", string(e.Verdict), "")
			continue
		}
		delete(prev, e.Name)
		d.verdict(e.Name, p.Verdict, e.Verdict)
		d.expectations(e.Name, p.Expectations, e.Expectations)
		d.flows(p, e)
	}
	names := make([]string, 0, len(prev))
	for n := range prev {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d.add(n, "experiment", string(prev[n].Verdict), "not run", "")
	}
	return d
}

func (d *Delta) add(exp, what, before, after, dir string) {
	d.Changes = append(d.Changes, Change{Experiment: exp, What: what, Before: before, After: after, Direction: dir})
}

func (d *Delta) verdict(exp string, a, b Verdict) {
	if a == b {
		d.Same++
		return
	}
	d.add(exp, "verdict", string(a), string(b), rank(verdictRank[a], verdictRank[b]))
}

func rank(before, after int) string {
	switch {
	case after > before:
		return Worse
	case after < before:
		return Better
	}
	return ""
}

// cellText is an observed cell with its verdict against the table.
func cellText(x Expectation) string {
	if x.Deviates() {
		return x.Observed + " (expected " + x.Expected + ")"
	}
	return x.Observed
}

func (d *Delta) expectations(exp string, a, b []Expectation) {
	old := map[string]Expectation{}
	for _, x := range a {
		old[x.Case] = x
	}
	for _, x := range b {
		p, ok := old[x.Case]
		if !ok {
			d.add(exp, x.Case, "not measured", cellText(x), "")
			continue
		}
		delete(old, x.Case)
		if p.Observed == x.Observed && p.Deviates() == x.Deviates() {
			d.Same++
			continue
		}
		// Not ranked: a cell leaving the expected table can be good news
		// (a blackhole fixed by the upgrade); the verdict and the outage
		// lengths carry better and worse.
		d.add(exp, x.Case, cellText(p), cellText(x), "")
	}
	for _, x := range a {
		if _, ok := old[x.Case]; ok {
			d.add(exp, x.Case, cellText(x), "not measured", "")
		}
	}
}

func (d *Delta) flows(a, b Experiment) {
	old := map[string]Flow{}
	for _, f := range a.Flows {
		old[f.Name] = f
	}
	for _, f := range b.Flows {
		p, ok := old[f.Name]
		if !ok {
			continue
		}
		_, po := openOutage(p.Stats)
		_, fo := openOutage(f.Stats)
		pd, fd := p.Stats.LongestGap, f.Stats.LongestGap
		dir := ""
		switch {
		case po && !fo:
			dir = Better
		case !po && fo:
			dir = Worse
		case po && fo:
		default:
			diff := fd - pd
			if abs(diff) > 50*time.Millisecond && abs(diff)*10 > max(pd, fd) {
				dir = rank(0, int(diff))
			}
		}
		if dir == "" {
			d.Same++
			continue
		}
		d.add(b.Name, "longest outage of "+f.Name, longest(a, p), longest(b, f), dir)
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// DiffMarkdown renders a Delta: the two environments, then one table row per
// change, marked better or worse where that is defined.
func DiffMarkdown(w io.Writer, d Delta) error {
	p := &printer{w: w}
	p.f("# netchaos: what changed\n\n- Before: %s\n- After: %s\n\n", envLine(d.Before), envLine(d.After))
	if len(d.Changes) == 0 {
		p.f("Nothing changed (%d items compared).\n", d.Same)
		return p.err
	}
	better, worse := 0, 0
	for _, c := range d.Changes {
		switch c.Direction {
		case Better:
			better++
		case Worse:
			worse++
		}
	}
	p.f("%d changed (%d better, %d worse), %d unchanged.\n\n| Experiment | What | Before | After | |\n|---|---|---|---|---|\n", len(d.Changes), better, worse, d.Same)
	for _, c := range d.Changes {
		mark := " "
		switch c.Direction {
		case Better:
			mark = "▲ better"
		case Worse:
			mark = "▼ worse"
		}
		p.f("| %s | %s | %s | %s | %s |\n", cell(c.Experiment), cell(c.What), cell(c.Before), cell(c.After), mark)
	}
	return p.err
}

// String is a one-line summary.
func (d Delta) String() string {
	return fmt.Sprintf("%d changed, %d unchanged", len(d.Changes), d.Same)
}
