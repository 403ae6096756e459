package reports

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// A chart is one timeline drawing of a group of flows that share an axis:
// a lane of marker labels, a bar per flow (answered, lost, partly lost, no
// samples) with its responder changes under it, and the time axis. layout
// computes every position; the page's template only prints them. Positions
// along the axis are percentages of the plot's width; heights are CSS
// pixels.
type chart struct {
	// Zoom describes the range of a zoomed chart ("" for the whole run).
	Zoom  string
	Lane  int // height of the marker label lane
	Marks []chartLabel
	Lines []chartLine // the markers' lines, drawn through every bar
	Rows  []chartRow
	Axis  []axisTick
	Notes []chartNote
}

// Chart geometry in CSS pixels.
const (
	laneRow    = 16 // a row of marker labels
	barHeight  = 18 // as the template draws it
	tickRow    = 14 // a row of responder labels under a bar
	maxMarkRow = 3
	maxTickRow = 2
)

// chartLabel is a label and the line from it: X is a percentage, Y the
// text's baseline, Y1 to Y2 the line.
type chartLabel struct {
	X, Class, Anchor, Text, Title string
	DX, Y, Y1, Y2                 int
}

type chartLine struct{ X, Class string }

// chartRow is one flow's bar.
type chartRow struct {
	Flow   Flow
	Height int
	Bars   []chartBar
	// Thin are lost runs too short to see at the narrowest plot: drawn as
	// a line two pixels wide.
	Thin []chartBar
	// Stable is where the flow was back for good after the trigger.
	Stable *chartBar
	Ticks  []chartLabel
	// Alternated is set when the responders changed too often to label.
	Alternated int
}

type chartBar struct{ X, W, Class, Title string }

type axisTick struct{ X, Text, Anchor string }

type chartNote struct{ Mark, Text string }

// pct formats a fraction of the plot as a percentage.
func pct(f float64) string { return fmt.Sprintf("%.3f%%", 100*math.Max(0, math.Min(1, f))) }

// layout lays out flows (of one experiment) from `from` to `to`: from
// their timeline buckets, or from their exact outage edges when exact is
// set or a flow has no timeline. Pure.
func layout(e Experiment, flows []Flow, from, to time.Time, exact bool) chart {
	var c chart
	if !to.After(from) {
		return c
	}
	sc := scale{from: from, to: to, t0: e.triggerAt()}
	var nb notebook
	c.Lane, c.Marks, c.Lines = sc.markers(e, &nb)
	for _, f := range flows {
		c.Rows = append(c.Rows, sc.row(e, f, exact, &nb))
	}
	c.Axis = sc.axis()
	for i, n := range nb {
		c.Notes = append(c.Notes, chartNote{Mark: noteMark(i + 1), Text: n})
	}
	return c
}

// scale maps times from `from` to `to` onto the plot; t0 is the time
// labels are relative to.
type scale struct{ from, to, t0 time.Time }

func (sc scale) frac(t time.Time) float64 {
	return float64(t.Sub(sc.from)) / float64(sc.to.Sub(sc.from))
}

func (sc scale) inside(t time.Time) bool { return !t.Before(sc.from) && !t.After(sc.to) }

// notebook is a chart's footnotes: the labels that fit on no row.
type notebook []string

// add keeps a footnote and returns its mark.
func (nb *notebook) add(text string) string {
	*nb = append(*nb, text)
	return noteMark(len(*nb))
}

// markers lays out the markers' labels on the lane above the bars (its
// height) and their lines through every bar.
func (sc scale) markers(e Experiment, nb *notebook) (lane int, marks []chartLabel, lines []chartLine) {
	trig, hasTrig := e.trigger()
	var ls []label
	var ms []Marker
	for _, m := range e.Markers {
		if sc.inside(m.At) {
			ls = append(ls, label{X: sc.frac(m.At), Text: m.Name + " " + Rel(m.At, sc.t0), Key: hasTrig && m == trig})
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return 0, nil, nil
	}
	slots := placeLabels(ls, plotMinWidth, maxMarkRow)
	lane = rows(slots)*laneRow + 6
	for i, m := range ms {
		class := "mitigation"
		switch {
		case hasTrig && m == trig:
			class = "trigger"
		case m.Event:
			class = "event"
		}
		s := slots[i]
		l := chartLabel{X: pct(ls[i].X), Class: class, Anchor: s.Anchor, Text: s.Text, Title: ls[i].Text,
			Y: lane - 5 - s.Row*laneRow, Y2: lane, DX: int(labelPad)}
		l.Y1 = l.Y + 3
		if s.NoLine {
			l.Y1 = l.Y2
		}
		if s.Anchor == "end" {
			l.DX = -l.DX
		}
		marks = append(marks, l)
		lines = append(lines, chartLine{X: l.X, Class: class})
	}
	// Footnotes are numbered in the order of the time axis.
	for _, k := range byX(ls) {
		if slots[k].Note {
			marks[k].Text = nb.add(ls[k].Text)
		}
	}
	return lane, marks, lines
}

// row lays out one flow's bar: answered, lost and partly lost runs (from
// its timeline, else from its outages), where it was back for good after
// the trigger, and its responder changes under it.
func (sc scale) row(e Experiment, f Flow, exact bool, nb *notebook) chartRow {
	r := chartRow{Flow: f, Height: barHeight}
	t0 := sc.t0
	bar := func(a, b time.Time, class, title string) {
		if b.Before(sc.from) || a.After(sc.to) {
			return
		}
		x0, x1 := sc.frac(maxTime(a, sc.from)), sc.frac(minTime(b, sc.to))
		cb := chartBar{X: pct(x0), W: pct(x1 - x0), Class: class, Title: title}
		if class == "lost" && (x1-x0)*plotMinWidth < 2 {
			cb.X = pct((x0 + x1) / 2)
			r.Thin = append(r.Thin, cb)
			return
		}
		r.Bars = append(r.Bars, cb)
	}
	if tl := f.Timeline; !exact && len(tl.Buckets) > 0 && tl.Bucket > 0 {
		for _, run := range runs(tl) {
			bar(run.from, run.to, run.class, fmt.Sprintf("%s to %s: %d answered, %d lost", Rel(run.from, t0), Rel(run.to, t0), run.answered, run.lost))
		}
	} else {
		st := f.Stats
		if st.WindowEnd.After(st.WindowStart) {
			bar(st.WindowStart, st.WindowEnd, "answered", "answered")
		}
		for _, o := range st.Outages {
			title := fmt.Sprintf("%s to %s: %d lost", Rel(o.Start, t0), Rel(o.End, t0), o.Lost)
			if o.Open {
				title = fmt.Sprintf("from %s: %d lost, %s", Rel(o.Start, t0), o.Lost, never(e, f))
			}
			bar(o.Start, o.End, "lost", title)
		}
	}
	if len(f.Windows) > 0 {
		if w := f.Windows[0]; w.Recovered && w.Outages > w.Blips && !w.DownAtEnd {
			if at := w.Start.Add(w.StableAfter); sc.inside(at) {
				r.Stable = &chartBar{X: pct(sc.frac(at)), Title: "back for good " + Dur(w.StableAfter) + " after the " + w.Marker}
			}
		}
	}
	// Responder changes: a tick under the bar and who answered from then
	// on.
	sp := f.Stats.Responders
	if changes := len(sp) - 1; changes > maxTicks {
		r.Alternated = changes
		return r
	}
	var ls []label
	var titles []string
	for i := 1; i < len(sp); i++ {
		s := sp[i]
		if !sc.inside(s.First) {
			continue
		}
		ls = append(ls, label{X: sc.frac(s.First), Text: "→ " + responderLabel(s, sp[i-1].SeenSource), Small: true})
		who := s.Responder.String()
		if s.Responder.Node != "" {
			who += " on " + s.Responder.Node
		}
		if s.SeenSource != "" {
			who += ", client seen as " + s.SeenSource
		}
		titles = append(titles, "from "+Rel(s.First, t0)+": "+who)
	}
	if len(ls) == 0 {
		return r
	}
	slots := placeLabels(ls, plotMinWidth, maxTickRow)
	r.Height = barHeight + 4 + rows(slots)*tickRow
	for i, s := range slots {
		l := chartLabel{X: pct(ls[i].X), Class: "resp", Anchor: s.Anchor, Text: s.Text, Title: titles[i],
			Y: barHeight + 2 + (s.Row+1)*tickRow - 3, Y1: barHeight, DX: 2}
		l.Y2 = l.Y - 9
		if s.NoLine {
			l.Y2 = l.Y1
		}
		if s.Anchor == "end" {
			l.DX = -l.DX
		}
		r.Ticks = append(r.Ticks, l)
	}
	for _, k := range byX(ls) {
		if slots[k].Note {
			r.Ticks[k].Text = nb.add(f.Name + " " + titles[k])
		}
	}
	return r
}

// axis is the time axis in seconds relative to the trigger: ticks every
// 1, 2 or 5 times a power of ten, their labels apart at the narrowest
// plot.
func (sc scale) axis() []axisTick {
	var out []axisTick
	a, b := sc.from.Sub(sc.t0).Seconds(), sc.to.Sub(sc.t0).Seconds()
	step := axisStep(a, b, plotMinWidth)
	right := math.Inf(-1) // right end of the last tick label kept
	for s := math.Ceil(a/step) * step; s <= b+1e-9; s += step {
		x := sc.frac(sc.t0.Add(time.Duration(math.Round(s * 1e9))))
		t := axisTick{X: pct(x), Text: tickLabel(s, step), Anchor: "middle"}
		w, px := textPx(t.Text)*11/12, x*plotMinWidth
		l, r := px-w/2, px+w/2
		switch {
		case l < 0:
			t.Anchor, l, r = "start", px, px+w
		case r > plotMinWidth:
			t.Anchor, l, r = "end", px-w, px
		}
		if l < right+labelGap {
			continue // it would run into the previous one
		}
		right = r
		out = append(out, t)
	}
	return out
}

// byX is the indexes of ls in order of X.
func byX(ls []label) []int {
	idx := make([]int, len(ls))
	for i := range idx {
		idx[i] = i
	}
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && ls[idx[j]].X < ls[idx[j-1]].X; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}

// run is consecutive buckets of one state.
type run struct {
	from, to       time.Time
	class          string
	answered, lost int
}

// runs merges a timeline's buckets into runs of one state: answered, lost,
// partly lost or (no probe sent) none, which is not drawn.
func runs(tl Timeline) []run {
	var out []run
	at := tl.Start
	for _, b := range tl.Buckets {
		to := at.Add(time.Duration(b.Width) * tl.Bucket)
		class := ""
		switch {
		case b.Answered > 0 && b.Lost > 0:
			class = "partly"
		case b.Answered > 0:
			class = "answered"
		case b.Lost > 0:
			class = "lost"
		}
		if n := len(out); n > 0 && out[n-1].class == class && out[n-1].to.Equal(at) {
			out[n-1].to = to
			out[n-1].answered += b.Answered
			out[n-1].lost += b.Lost
		} else {
			out = append(out, run{from: at, to: to, class: class, answered: b.Answered, lost: b.Lost})
		}
		at = to
	}
	kept := out[:0]
	for _, r := range out {
		if r.class != "" {
			kept = append(kept, r)
		}
	}
	return kept
}

// chartSpan is the range every chart of an experiment shares: from its first
// flow's first sample to the last one's last.
func (e Experiment) chartSpan() (time.Time, time.Time) {
	var from, to time.Time
	grow := func(a, b time.Time) {
		if !a.IsZero() && (from.IsZero() || a.Before(from)) {
			from = a
		}
		if b.After(to) {
			to = b
		}
	}
	for _, f := range e.Flows {
		grow(f.Stats.WindowStart, f.Stats.WindowEnd)
		if len(f.Timeline.Buckets) > 0 {
			grow(f.Timeline.Start, f.Timeline.End())
		}
	}
	return from, to
}

// groupZoom picks a closer range for flows whose outages after the trigger
// are all closed and, from the first to the last, shorter than 2 % of the
// chart: from half a second (or as long as they last) before the first to
// as long after the last.
func groupZoom(e Experiment, flows []Flow, start, end time.Time) (time.Time, time.Time, bool) {
	t0 := e.triggerAt()
	var first, last time.Time
	for _, f := range flows {
		for _, o := range f.Stats.Outages {
			if o.End.Before(t0) {
				continue
			}
			if o.Open {
				return first, last, false
			}
			if first.IsZero() || o.Start.Before(first) {
				first = o.Start
			}
			if o.End.After(last) {
				last = o.End
			}
		}
	}
	if first.IsZero() || last.Sub(first)*50 > end.Sub(start) {
		return first, last, false
	}
	pad := max(500*time.Millisecond, last.Sub(first))
	zs, ze := first.Add(-pad), last.Add(pad)
	if t0.After(start) && t0.Before(zs) && first.Sub(t0) < 4*pad {
		zs = t0.Add(-pad / 2) // keep the trigger in view when it is close
	}
	return maxTime(zs, start), minTime(ze, end), true
}

// flowGroup is an experiment's flows of one kind (what follows the node
// in the flow's name: pinned, fresh, oneway), the control flows apart.
type flowGroup struct {
	Kind    string
	Control bool
	Verdict Verdict
	// Open is set when a flow of the group is not resilient: the group is
	// drawn open, else collapsed.
	Open  bool
	Flows []Flow
	// Counts is how many flows came to each verdict; Worst the worst
	// one's loss after the trigger.
	Counts, Worst string
	Charts        []chart
}

// groups sorts an experiment's flows into groups, laid out: the groups
// with the worst verdicts first, the control flows last.
func groups(e Experiment) []flowGroup {
	var gs []flowGroup
	index := map[string]int{}
	for _, f := range e.Flows {
		_, kind, ok := strings.Cut(f.Name, "/")
		if !ok {
			kind = f.Name
		}
		k := fmt.Sprintf("%s/%v", kind, f.Control)
		i, ok := index[k]
		if !ok {
			i = len(gs)
			index[k] = i
			gs = append(gs, flowGroup{Kind: kind, Control: f.Control, Verdict: Resilient})
		}
		g := &gs[i]
		g.Flows = append(g.Flows, f)
		if f.Verdict != "" {
			g.Verdict = worse(g.Verdict, f.Verdict)
		}
	}
	rank := func(g flowGroup) int {
		if g.Control {
			return -1
		}
		return verdictRank[g.Verdict]
	}
	// Stable insertion sort: worst first, controls last.
	for i := 1; i < len(gs); i++ {
		for j := i; j > 0 && rank(gs[j]) > rank(gs[j-1]); j-- {
			gs[j], gs[j-1] = gs[j-1], gs[j]
		}
	}
	from, to := e.chartSpan()
	for i := range gs {
		g := &gs[i]
		g.Open = verdictRank[g.Verdict] > 0 && !g.Control
		g.Counts, g.Worst = groupSummary(*g)
		if !to.After(from) {
			continue
		}
		g.Charts = append(g.Charts, layout(e, g.Flows, from, to, false))
		if zs, ze, ok := groupZoom(e, g.Flows, from, to); ok {
			z := layout(e, g.Flows, zs, ze, true)
			t0 := e.triggerAt()
			z.Zoom = "zoom: " + Rel(zs, t0) + " to " + Rel(ze, t0) + ", from the exact outage edges"
			g.Charts = append(g.Charts, z)
		}
	}
	return gs
}

// groupSummary is a group in words: how many flows came to each verdict,
// and the worst one's loss after the trigger.
func groupSummary(g flowGroup) (counts, worstText string) {
	n := map[Verdict]int{}
	var worst *Window
	var worstName string
	for _, f := range g.Flows {
		n[f.Verdict]++
		if len(f.Windows) > 0 && (worst == nil || moreLost(f.Windows[0], *worst)) {
			w := f.Windows[0]
			worst, worstName = &w, f.Name
		}
	}
	var parts []string
	for _, v := range []Verdict{Vulnerable, Degraded, Resilient} {
		if n[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[v], v))
		}
	}
	counts = plural(len(g.Flows), "flow", "flows")
	if len(parts) > 0 {
		counts += ": " + strings.Join(parts, ", ")
	}
	switch {
	case worst == nil:
	case worst.Outages == 0 && worst.Recovered:
		worstText = "no outage after the " + worst.Marker
	default:
		worstText = "worst: " + worstName + " " + worst.words()
	}
	return counts, worstText
}
