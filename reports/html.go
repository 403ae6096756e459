package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var htmlTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":      Dur,
	"words":    func(w Window) string { return w.words() },
	"bad":      func(v Verdict) bool { return v == Vulnerable || v == Degraded },
	"labname":  func(lab string) string { name, _, _ := strings.Cut(lab, ":"); return name },
	"outages":  outageList,
	"who":      responderText,
	"markers":  markerList,
	"env":      envLine,
	"expected": expected,
	"match":    matchText,
	"name":     orName,
	"upper":    func(v Verdict) string { return strings.ToUpper(string(v)) },
	"rfc3339":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"sub":      func(a, b time.Time) time.Duration { return a.Sub(b) },
	"unknown":  orUnknown,
	"groupOf": func(x expView, g flowGroup) groupView {
		return groupView{E: x.Experiment, G: g}
	},
	"policy": func(p string) string {
		if p == "" {
			return "no traffic policy given"
		}
		return "policy " + p
	},
}).Parse(htmlTemplate))

// pageView is what the page template prints: the report, its banner and,
// per experiment, everything computed (groups and their charts, the grid).
type pageView struct {
	*Report
	Banner string
	Gate   string
	Fails  bool
	Counts Counts
	Exps   []expView
}

// expView is one experiment as the page shows it.
type expView struct {
	Experiment
	ID string
	// Lost and Stable are the worst flow's time lost and when it was back
	// for good, each naming its marker (headline).
	Lost, Stable string
	Key          string
	Conformance  string
	PreTrigger   []string
	Mechanism    string
	Mitigations  []string
	// FlowRows are the flow expectation rows that left the expected
	// behaviour or are vulnerable; QuietRows the others.
	FlowRows, QuietRows []Expectation
	Grid                gridView
	Groups              []flowGroup
}

// groupView is a flow group with its experiment, for the group template.
type groupView struct {
	E Experiment
	G flowGroup
}

func view(r *Report) pageView {
	v := pageView{Report: r, Banner: Banner(r), Fails: r.ExitCode() != 0, Counts: CountVerdicts(r)}
	v.Gate, _, _ = strings.Cut(v.Banner, " — ")
	for i, e := range r.Experiments {
		x := expView{Experiment: e, ID: fmt.Sprintf("e%d-%s", i, e.Name), Key: key(e), Conformance: conformanceText(e),
			PreTrigger: preTrigger(e), Mitigations: mitigationText(e)}
		x.Lost, x.Stable = headline(e)
		if e.Verdict == Vulnerable || e.Verdict == Degraded {
			x.Mechanism = mechanismText(e.Mechanism)
		}
		var rows []Expectation
		rows, x.Grid = splitExpectations(e)
		x.FlowRows, x.QuietRows = loudRows(rows)
		x.Groups = groups(e)
		v.Exps = append(v.Exps, x)
	}
	return v
}

// HTML renders one self-contained page (inline CSS and SVG; no scripts, no
// external resources): a banner with the gate's result and the verdict
// counts; the summary (per experiment its verdict, its worst flow's time
// lost and when it was back for good, its conformance to the known
// behaviour, its lab profile, outages before the trigger); and per
// experiment its reachability grid, the flow rows that left the expected
// behaviour, and its flows in groups of one kind, each drawn on one time
// axis (relative to the trigger) with the markers, what every flow lost and
// when it was back for good, resilient groups and the control flows
// collapsed. Deterministic.
func HTML(w io.Writer, r *Report) error { return page.Execute(w, view(r)) }
