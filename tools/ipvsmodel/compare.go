package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/netchaos/netchaos/experiments/trafficpolicy"
	"github.com/netchaos/netchaos/reports"
)

// column is one matrix beside the others: a measured T4 report or a model.
type column struct {
	label string
	cells map[string]colCell
}

type colCell struct {
	outcome    string
	vulnerable string // why, when vulnerable
	note       string // the model's walk
}

// measuredColumn reads the T4 cells of a report.json.
func measuredColumn(label, path string) (column, error) {
	r, err := reports.Load(path)
	if err != nil {
		return column{}, err
	}
	col := column{label: label, cells: map[string]colCell{}}
	for _, x := range r.Experiments {
		if x.Name != trafficpolicy.Name {
			continue
		}
		for _, e := range x.Expectations {
			if !strings.Contains(e.Case, " → ") {
				continue // a not-applicable row, not a cell
			}
			out, rest, _ := strings.Cut(e.Observed, " — ")
			c := colCell{outcome: out}
			if e.Verdict == string(reports.Vulnerable) {
				_, c.vulnerable, _ = strings.Cut(rest, "vulnerable: ")
			}
			col.cells[e.Case] = c
		}
	}
	if len(col.cells) == 0 {
		return col, fmt.Errorf("%s has no %s cells", path, trafficpolicy.Name)
	}
	return col, nil
}

// modelColumn is a recorded model's matrix.
func modelColumn(v trafficpolicy.IPVSVariant) (column, error) {
	m, err := trafficpolicy.LoadIPVSModel(v.File)
	if err != nil {
		return column{}, err
	}
	cells, err := m.Cells()
	if err != nil {
		return column{}, err
	}
	col := column{label: v.Label, cells: map[string]colCell{}}
	for _, c := range cells {
		cc := colCell{outcome: c.Outcome(), note: c.Note}
		if vuln, why := trafficpolicy.Judge(c); vuln {
			cc.vulnerable = why
		}
		col.cells[c.Key()] = cc
	}
	return col, nil
}

// compareMarkdown writes the matrices side by side, then every cell where
// the first model (IPVS as released) differs from the first measured
// column, with the proxier state that explains it.
func compareMarkdown(w io.Writer, measured, models []column) {
	cols := append(append([]column{}, measured...), models...)
	keys := map[string]bool{}
	for _, c := range cols {
		for k := range c.cells {
			keys[k] = true
		}
	}
	var order []string
	for k := range keys {
		order = append(order, k)
	}
	sort.Strings(order)
	fmt.Fprintf(w, "# T4 matrix: measured beside modelled IPVS\n\n")
	fmt.Fprintf(w, "Measured columns are netchaos runs on kind; IPVS columns are modelled from kube-proxy %s's own IPVS proxier "+
		"(tools/ipvsmodel; the older rows are that proxier with recorded patches reverting #108460 and #97081). "+
		"**bold** = vulnerable (trafficpolicy.Judge). UDP rows end in \", UDP\".\n\n", trafficpolicy.ModelKubernetes)
	fmt.Fprintf(w, "| cell |")
	for _, c := range cols {
		fmt.Fprintf(w, " %s |", c.label)
	}
	fmt.Fprintf(w, "\n|---|")
	for range cols {
		fmt.Fprintf(w, "---|")
	}
	fmt.Fprintln(w)
	vulnCount := make([]int, len(cols))
	for _, k := range order {
		fmt.Fprintf(w, "| %s |", k)
		for i, c := range cols {
			cc, ok := c.cells[k]
			switch {
			case !ok:
				fmt.Fprintf(w, " — |")
			case cc.vulnerable != "":
				vulnCount[i]++
				fmt.Fprintf(w, " **%s** |", cc.outcome)
			default:
				fmt.Fprintf(w, " %s |", cc.outcome)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "| vulnerable cells |")
	for i := range cols {
		fmt.Fprintf(w, " %d |", vulnCount[i])
	}
	fmt.Fprintf(w, "\n\n")
	if len(measured) == 0 || len(models) == 0 {
		return
	}
	base, ipvs := measured[0], models[0]
	fmt.Fprintf(w, "## Where %s and %s differ\n\n", ipvs.label, base.label)
	fmt.Fprintf(w, "Each with the walk through the proxier's recorded state that gives the IPVS outcome.\n\n")
	n := 0
	for _, k := range order {
		a, okA := base.cells[k]
		b, okB := ipvs.cells[k]
		if !okA || !okB || a.outcome == b.outcome {
			continue
		}
		n++
		fmt.Fprintf(w, "- **%s**: %s → IPVS %s", k, a.outcome, b.outcome)
		if b.vulnerable != "" {
			fmt.Fprintf(w, " (vulnerable: %s)", b.vulnerable)
		}
		fmt.Fprintf(w, ".\n  IPVS: %s\n", b.note)
	}
	fmt.Fprintf(w, "\n%d cells differ.\n", n)
	for _, m := range models[1:] {
		fmt.Fprintf(w, "\n## Where %s differs from %s\n\n", m.label, ipvs.label)
		n := 0
		for _, k := range order {
			a, b := ipvs.cells[k], m.cells[k]
			if a.outcome == b.outcome {
				continue
			}
			n++
			fmt.Fprintf(w, "- **%s**: %s → %s.\n  %s\n", k, a.outcome, b.outcome, b.note)
		}
		fmt.Fprintf(w, "\n%d cells differ.\n", n)
	}
}
