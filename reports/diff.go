package reports

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
)

// Change is one difference between two reports.
type Change struct {
	Experiment string `json:"experiment"`
	// What is "verdict", a reachability cell's case, or "<role>/<flow>"
	// (a flow kind from one kind of client placement).
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
// answer to "does the upgrade lose traffic where the current version did
// not?".
type Delta struct {
	Before  Env      `json:"before"`
	After   Env      `json:"after"`
	Changes []Change `json:"changes"`
	// Same counts the compared items that did not change.
	Same int `json:"same"`
	// Shared lists the experiments both reports ran; Only those one ran.
	Shared []string `json:"shared"`
	Only   []string `json:"only,omitempty"`
	// Threshold is the noise threshold per experiment: a time lost that
	// moved by less is not a change.
	Threshold map[string]time.Duration `json:"threshold_ns"`
}

// DiffOptions tune Diff.
type DiffOptions struct {
	// Threshold overrides the noise threshold of every experiment (0: from
	// the reports, see Diff).
	Threshold time.Duration
}

// Diff compares b (after) with a (before), experiment by experiment (keyed
// by name and lab profile; in b's order, then those only a ran): the
// verdict; each reachability cell (by case), ranked when it becomes or stops
// being vulnerable; and, per flow kind and client role ("worker node",
// "outside the cluster" — not node names, so an upgrade that replaces every
// node still lines up), the worst such flow's time lost after the trigger
// and whether it came back. A time lost counts as changed only when it moved
// by more than the noise threshold: by default the spread of the control
// flows' time lost within the two runs (flows that should behave alike
// differ by that much from noise alone), never less than two probe
// intervals. Pure.
func Diff(a, b *Report, o DiffOptions) Delta {
	d := Delta{Before: a.Environment, After: b.Environment, Threshold: map[string]time.Duration{}}
	prev := map[string]Experiment{}
	var order []string
	for _, e := range canonical(a) {
		prev[key(e)] = e
		order = append(order, key(e))
	}
	for _, e := range canonical(b) {
		k := key(e)
		p, ok := prev[k]
		if !ok {
			d.Only = append(d.Only, k)
			d.add(k, "experiment", "not run", string(e.Verdict), "")
			continue
		}
		delete(prev, k)
		d.Shared = append(d.Shared, k)
		th := o.Threshold
		if th <= 0 {
			th = noiseThreshold(p, e)
		}
		d.Threshold[k] = th
		d.verdict(k, p.Verdict, e.Verdict)
		d.cells(k, p, e)
		d.flows(k, p, e, th)
	}
	for _, k := range order {
		if p, ok := prev[k]; ok {
			d.Only = append(d.Only, k)
			d.add(k, "experiment", string(p.Verdict), "not run", "")
		}
	}
	return d
}

// Worse reports whether anything got worse: the gate's question.
func (d Delta) Worse() bool {
	for _, c := range d.Changes {
		if c.Direction == Worse {
			return true
		}
	}
	return false
}

// key names an experiment across reports: its name, and its lab profile
// when it ran in one.
func key(e Experiment) string {
	if e.Lab == "" {
		return e.Name
	}
	lab, _, _ := strings.Cut(e.Lab, ":")
	return e.Name + " (lab " + lab + ")"
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

// noiseThreshold is the largest spread of the control flows' time lost
// after the trigger within either run, and at least two probe intervals.
func noiseThreshold(a, b Experiment) time.Duration {
	th := 2 * max(a.Interval, b.Interval, 10*time.Millisecond)
	for _, e := range []Experiment{a, b} {
		var lo, hi time.Duration = -1, 0
		for _, f := range e.Flows {
			if !f.Control || len(f.Windows) == 0 {
				continue
			}
			l := f.Windows[0].Lost
			if lo < 0 || l < lo {
				lo = l
			}
			hi = max(hi, l)
		}
		if lo >= 0 {
			th = max(th, hi-lo)
		}
	}
	return th
}

// cellText is an observed cell with its verdict and its conformance.
func cellText(x Expectation) string {
	s := x.Observed
	if x.Verdict != "" {
		s += " — " + x.Verdict
	}
	if x.Deviates() {
		s += " (expected " + x.Expected + ")"
	}
	return s
}

// cells compares the reachability cells (the expectations that are not a
// flow's own rows).
func (d *Delta) cells(exp string, a, b Experiment) {
	old := map[string]Expectation{}
	for _, x := range matrix(a) {
		old[x.Case] = x
	}
	for _, x := range matrix(b) {
		p, ok := old[x.Case]
		if !ok {
			d.add(exp, x.Case, "not measured", cellText(x), "")
			continue
		}
		delete(old, x.Case)
		if p.Observed == x.Observed && p.Verdict == x.Verdict {
			d.Same++
			continue
		}
		dir := ""
		pv, xv := p.Verdict == string(Vulnerable), x.Verdict == string(Vulnerable)
		switch {
		case !pv && xv:
			dir = Worse
		case pv && !xv:
			dir = Better
		}
		d.add(exp, x.Case, cellText(p), cellText(x), dir)
	}
	for _, x := range matrix(a) {
		if _, ok := old[x.Case]; ok {
			d.add(exp, x.Case, cellText(x), "not measured", "")
		}
	}
}

// matrix is an experiment's expectations that are not rows of its flows.
func matrix(e Experiment) []Expectation {
	flows := map[string]bool{}
	for _, f := range e.Flows {
		flows[f.Name] = true
	}
	var out []Expectation
	for _, x := range e.Expectations {
		if name, _, ok := strings.Cut(x.Case, " after "); ok && flows[name] {
			continue
		}
		out = append(out, x)
	}
	return out
}

// roleFlow is the worst flow of one role and kind, in the trigger's window.
type roleFlow struct {
	recovered bool
	lost      time.Duration
	flow      string
}

func (r roleFlow) String() string {
	if !r.recovered {
		return "never recovered (" + r.flow + ")"
	}
	return Dur(r.lost) + " lost (" + r.flow + ")"
}

// byRole keys an experiment's flows by role and flow kind, keeping the worst.
func byRole(e Experiment) map[string]roleFlow {
	out := map[string]roleFlow{}
	for _, f := range e.Flows {
		if len(f.Windows) == 0 {
			continue
		}
		node, kind, _ := strings.Cut(f.Name, "/")
		role := f.Role
		if role == "" {
			role = node
		}
		k := role + "/" + kind
		w := f.Windows[0]
		r := roleFlow{recovered: w.Recovered, lost: w.Lost, flow: f.Name}
		if cur, ok := out[k]; !ok || (cur.recovered && !r.recovered) || (cur.recovered == r.recovered && r.lost > cur.lost) {
			out[k] = r
		}
	}
	return out
}

func (d *Delta) flows(exp string, a, b Experiment, th time.Duration) {
	old := byRole(a)
	now := byRole(b)
	keys := make([]string, 0, len(now))
	for k := range now {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p, ok := old[k]
		if !ok {
			continue
		}
		f := now[k]
		dir := ""
		switch {
		case p.recovered && !f.recovered:
			dir = Worse
		case !p.recovered && f.recovered:
			dir = Better
		case p.recovered && abs(f.lost-p.lost) > th:
			dir = rank(0, int(f.lost-p.lost))
		}
		if dir == "" {
			d.Same++
			continue
		}
		d.add(exp, k, p.String(), f.String(), dir)
	}
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// counts are the changes per direction.
func (d Delta) counts() (better, worse int) {
	for _, c := range d.Changes {
		switch c.Direction {
		case Better:
			better++
		case Worse:
			worse++
		}
	}
	return better, worse
}

// Headline is the gate's answer in one line.
func (d Delta) Headline() string {
	better, worse := d.counts()
	switch {
	case len(d.Shared) == 0:
		return "nothing to compare: the two reports share no experiment"
	case worse > 0:
		return fmt.Sprintf("WORSE: %d %s got worse beyond noise (%d better, %d other changes, %d unchanged)", worse, plural1(worse, "item", "items"), better, len(d.Changes)-better-worse, d.Same)
	case better > 0:
		return fmt.Sprintf("not worse: %d better, %d other changes, %d unchanged", better, len(d.Changes)-better, d.Same)
	}
	return fmt.Sprintf("no change beyond noise (%d items compared)", d.Same+len(d.Changes))
}

// DiffMarkdown renders a Delta: the gate's headline, the two environments,
// then one table row per change, worse first.
func DiffMarkdown(w io.Writer, d Delta) error {
	p := &printer{w: w}
	p.f("# netchaos: what changed\n\n**%s**\n\n- Before: %s\n- After: %s\n", d.Headline(), envLine(d.Before), envLine(d.After))
	if len(d.Only) > 0 {
		p.f("- Run by only one of them: %s\n", strings.Join(d.Only, ", "))
	}
	p.f("- Noise threshold (time lost that moved by less is no change): %s\n\n", thresholds(d))
	if len(d.Changes) == 0 {
		return p.err
	}
	p.f("| Experiment | What | Before | After | |\n|---|---|---|---|---|\n")
	for _, c := range sortedChanges(d) {
		p.f("| %s | %s | %s | %s | %s |\n", cell(c.Experiment), cell(c.What), cell(c.Before), cell(c.After), mark(c.Direction))
	}
	return p.err
}

func mark(dir string) string {
	switch dir {
	case Better:
		return "▲ better"
	case Worse:
		return "▼ worse"
	}
	return " "
}

// sortedChanges puts what got worse first, then better, then the rest,
// keeping the order within each.
func sortedChanges(d Delta) []Change {
	out := append([]Change(nil), d.Changes...)
	order := map[string]int{Worse: 0, Better: 1, "": 2}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].Direction] < order[out[j].Direction] })
	return out
}

func thresholds(d Delta) string {
	names := make([]string, 0, len(d.Threshold))
	for n := range d.Threshold {
		names = append(names, n)
	}
	sort.Strings(names)
	var s []string
	for _, n := range names {
		s = append(s, n+" "+Dur(d.Threshold[n]))
	}
	if len(s) == 0 {
		return "—"
	}
	return strings.Join(s, ", ")
}

// DiffJSON renders a Delta as indented JSON, with the headline and whether
// anything got worse.
func DiffJSON(w io.Writer, d Delta) error {
	b, err := json.MarshalIndent(struct {
		Headline string `json:"headline"`
		Worse    bool   `json:"worse"`
		Delta
	}{d.Headline(), d.Worse(), d}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

var diffPage = template.Must(template.New("diff").Funcs(template.FuncMap{
	"env": envLine, "mark": mark, "thresholds": thresholds, "sorted": sortedChanges,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>netchaos: what changed</title>
<style>body{font:15px/1.5 system-ui,sans-serif;color:#1b2330;margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px}.head{font-size:17px;font-weight:650;padding:10px 14px;border-radius:8px;background:#eef1f5}
.head.worse{background:#fdf2f2;color:#a32020}table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid #e3e7ed;padding:7px 9px;text-align:left;vertical-align:top}th{background:#f6f7f9}
.worse td:last-child{color:#a32020;font-weight:650}.better td:last-child{color:#1f7a4d;font-weight:650}
.muted{color:#667085}</style></head><body>
<h1>netchaos: what changed</h1>
<p class="head{{if .Worse}} worse{{end}}">{{.Headline}}</p>
<p>Before: <b>{{env .Before}}</b><br>After: <b>{{env .After}}</b></p>
{{if .Only}}<p class="muted">Run by only one of them: {{range $i, $o := .Only}}{{if $i}}, {{end}}{{$o}}{{end}}</p>{{end}}
<p class="muted">Noise threshold (time lost that moved by less is no change): {{thresholds .Delta}}</p>
{{if .Changes}}<table><tr><th>Experiment</th><th>What</th><th>Before</th><th>After</th><th></th></tr>
{{range sorted .Delta}}<tr class="{{.Direction}}"><td>{{.Experiment}}</td><td>{{.What}}</td><td>{{.Before}}</td><td>{{.After}}</td><td>{{mark .Direction}}</td></tr>
{{end}}</table>{{end}}
</body></html>
`))

// DiffHTML renders a Delta as one self-contained page.
func DiffHTML(w io.Writer, d Delta) error {
	return diffPage.Execute(w, struct {
		Delta
		Headline string
		Worse    bool
	}{d, d.Headline(), d.Worse()})
}

// String is a one-line summary.
func (d Delta) String() string {
	return fmt.Sprintf("%d changed, %d unchanged", len(d.Changes), d.Same)
}
