package reports

import (
	"slices"
	"strings"
)

// The expected-versus-observed cells of an experiment, as the HTML page
// shows them: a flow's rows ("<flow> after <marker>") in a table, the
// deviating ones first; reachability cells ("<client placement> →
// <target>, policy <policy>") as a grid per policy, client placements down
// and targets across.

// gridView is an experiment's reachability cells.
type gridView struct {
	Tables []gridTable
	// Other are the cells whose case does not read "<placement> →
	// <target>[, policy <policy>]".
	Other []Expectation
}

// gridTable is the cells of one policy.
type gridTable struct {
	Policy  string
	Targets []string
	// Rows have an expectation or a vulnerable cell; Quiet are the other
	// placements (collapsed on the page).
	Rows, Quiet []gridRow
	Vulnerable  int
	Deviations  int
}

type gridRow struct {
	Placement string
	Cells     []gridCell
}

// gridCell is one cell; X is nil where the placement and target were not
// measured under this policy.
type gridCell struct {
	X     *Expectation
	Class string
}

// parseCase splits a reachability case "<placement> → <target>, policy
// <policy>" (the policy part is optional).
func parseCase(c string) (placement, target, policy string, ok bool) {
	placement, rest, ok := strings.Cut(c, " → ")
	if !ok || placement == "" || rest == "" {
		return "", "", "", false
	}
	if i := strings.LastIndex(rest, ", policy "); i >= 0 {
		target, policy = rest[:i], rest[i+len(", policy "):]
	} else {
		target = rest
	}
	return strings.TrimSpace(placement), strings.TrimSpace(target), strings.TrimSpace(policy), target != ""
}

// cellClass is how a cell is shown: vulnerable, worse / better / not
// triggered / differs (than its expectation), ok (as expected) or none
// (no expectation).
func cellClass(x Expectation) string {
	switch {
	case x.Verdict == string(Vulnerable):
		return "vulnerable"
	case x.Deviates() && x.Conformance == "":
		return "differs"
	case x.Deviates():
		return strings.ReplaceAll(x.Conformance, " ", "-")
	case x.Expected != "":
		return "ok"
	}
	return "none"
}

// splitExpectations is an experiment's flow rows and its reachability
// grid. The grid is empty unless at least two cells parse.
func splitExpectations(e Experiment) (flowRows []Expectation, g gridView) {
	flows := map[string]bool{}
	for _, f := range e.Flows {
		flows[f.Name] = true
	}
	var cells []Expectation
	for _, x := range e.Expectations {
		if name, _, ok := strings.Cut(x.Case, " after "); ok && flows[name] {
			flowRows = append(flowRows, x)
			continue
		}
		cells = append(cells, x)
	}
	parsed := 0
	for _, x := range cells {
		if _, _, _, ok := parseCase(x.Case); ok {
			parsed++
		}
	}
	if parsed < 2 {
		return append(flowRows, cells...), g
	}
	type key struct{ placement, target string }
	tables := map[string]*gridTable{}
	var policies []string
	byCell := map[string]map[key]*Expectation{}
	var placements []string
	seenPlacement := map[string]bool{}
	for i := range cells {
		x := &cells[i]
		p, t, pol, ok := parseCase(x.Case)
		if !ok {
			g.Other = append(g.Other, *x)
			continue
		}
		tb := tables[pol]
		if tb == nil {
			tb = &gridTable{Policy: pol}
			tables[pol] = tb
			policies = append(policies, pol)
			byCell[pol] = map[key]*Expectation{}
		}
		if !slices.Contains(tb.Targets, t) {
			tb.Targets = append(tb.Targets, t)
		}
		if !seenPlacement[p] {
			seenPlacement[p] = true
			placements = append(placements, p)
		}
		byCell[pol][key{p, t}] = x
	}
	for _, pol := range policies {
		tb := tables[pol]
		for _, p := range placements {
			r := gridRow{Placement: p}
			measured, loud := false, false
			for _, t := range tb.Targets {
				x := byCell[pol][key{p, t}]
				c := gridCell{X: x, Class: "missing"}
				if x != nil {
					measured = true
					c.Class = cellClass(*x)
					if x.Expected != "" || c.Class == "vulnerable" {
						loud = true
					}
					if c.Class == "vulnerable" {
						tb.Vulnerable++
					}
					if x.Deviates() {
						tb.Deviations++
					}
				}
				r.Cells = append(r.Cells, c)
			}
			switch {
			case !measured:
			case loud:
				tb.Rows = append(tb.Rows, r)
			default:
				tb.Quiet = append(tb.Quiet, r)
			}
		}
		g.Tables = append(g.Tables, *tb)
	}
	return flowRows, g
}

// loudRows are the flow rows a reader must see: those that left their
// expectation or are vulnerable; quiet the rest (as expected, or without
// an expectation), collapsed on the page.
func loudRows(xs []Expectation) (loud, quiet []Expectation) {
	for _, x := range xs {
		if x.Deviates() || x.Verdict == string(Vulnerable) {
			loud = append(loud, x)
		} else {
			quiet = append(quiet, x)
		}
	}
	return loud, quiet
}
