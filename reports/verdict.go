package reports

import (
	"fmt"
	"strings"
	"time"
)

// DefaultBudget is the outage budget of an experiment that was given none:
// a flow that loses more than this after a trigger (beyond the outage the
// trigger causes by design) is vulnerable, so a long blackhole can never
// pass silently.
const DefaultBudget = 10 * time.Second

// Noise is the floor below which time a flow lost beyond its control flows
// is not blamed on the failure mechanism: the same component's reaction
// lands on the two a little apart. Measured here: kube-proxy v1.34.2 clears
// a re-created UDP Service's stale entries 0.5-0.7 s after the rules that
// bring the fresh-port flows back, on a 2-core node at load 30 (60 ms when
// idle). NoiseFor raises it to two probe intervals for slow probes.
const Noise = time.Second

// NoiseFor is the noise floor for probes sent every interval.
func NoiseFor(interval time.Duration) time.Duration { return max(Noise, 2*interval) }

// BlipFor is how short an outage of probes sent every interval must be to
// be a blip: two probes lost at most (an outage runs from the first lost
// probe's send time to the first answered one's, so one lost probe is an
// interval long, give or take the sender's jitter). Lost packets now and
// then are a network's normal; they cost their time but are nothing to
// recover from.
func BlipFor(interval time.Duration) time.Duration { return 3 * interval }

// Sustain is how long answers must stay up after an outage for a recovery
// to count as stable.
const Sustain = 3 * time.Second

// Judge computes the experiment's per-flow windows and verdicts and its own
// verdict and reason, unless it is already not-applicable or error. Pure.
//
// Per flow, in each window (from a marker — the trigger, then each
// mitigation — to the next, or to the end of observation), where a flow's
// own loss is what it lost beyond what its control flows lost at the same
// instants (beyond the outage the trigger causes by design,
// Experiment.Inherent, when there are no control flows):
//
//   - vulnerable: it never came back for good, or its own loss exceeds the
//     budget;
//   - degraded: it lost more than the budget in all (shared with the
//     controls: the trigger itself cost too much; a gate fails on it too),
//     or its own loss exceeds the tolerance (the mechanism bit and let go);
//     a control flow has no own loss;
//   - resilient: otherwise.
//
// The flow's verdict is its trigger window's; the experiment's is the worst
// flow's, or vulnerable when a reachability cell is.
func Judge(e *Experiment) {
	if e.Verdict == NotApplicable || e.Verdict == Errored {
		return
	}
	judgeWindows(e)
	e.Verdict, e.Reason = assess(*e)
}

// ExitCode is what a gate exits with: 1 when any experiment is vulnerable
// or errored, or degraded over its budget (every flow lost more than the
// budget: not the mechanism, but an outage all the same), else 0.
func (r *Report) ExitCode() int {
	for _, e := range r.Experiments {
		if e.Verdict == Vulnerable || e.Verdict == Errored || e.overBudget() {
			return 1
		}
	}
	return 0
}

// overBudget reports whether some flow lost more than the budget after the
// trigger.
func (e Experiment) overBudget() bool {
	for _, f := range e.Flows {
		if len(f.Windows) > 0 && f.Windows[0].OverBudget {
			return true
		}
	}
	return false
}

// verdictRank orders verdicts from best to worst.
var verdictRank = map[Verdict]int{Resilient: 0, NotApplicable: 0, Degraded: 1, Vulnerable: 2, Errored: 3}

func worse(a, b Verdict) Verdict {
	if verdictRank[b] > verdictRank[a] {
		return b
	}
	return a
}

// assess is the experiment's verdict and its reason in one line.
func assess(e Experiment) (Verdict, string) {
	v := Resilient
	var bad []string
	for _, f := range e.Flows {
		v = worse(v, f.Verdict)
	}
	for _, x := range e.Expectations {
		if x.Verdict == string(Vulnerable) {
			v = Vulnerable
			bad = append(bad, x.Case+": "+x.Observed)
		}
	}
	if v == Resilient {
		return v, ""
	}
	for _, f := range e.Flows {
		if f.Verdict == v && len(f.Windows) > 0 {
			bad = append(bad, f.Name+" "+f.Windows[0].words())
		}
	}
	n := len(bad)
	if n > 3 {
		bad = append(bad[:3], fmt.Sprintf("%d more", n-3))
	}
	s := strings.Join(bad, "; ")
	if e.Mechanism != nil && e.Mechanism.Name != "" {
		s += " — " + e.Mechanism.Name
		if e.Mechanism.Source != "" {
			s += " (" + e.Mechanism.Source + ")"
		}
	}
	return v, s
}

// judgeWindows fills every flow's Windows and Verdict from its outages.
func judgeWindows(e *Experiment) {
	bounds := e.windows()
	budget := e.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	noise := NoiseFor(e.Interval)
	tolerance := max(noise, e.Tolerance)
	for i := range e.Flows {
		f := &e.Flows[i]
		controls := e.controlsOf(*f)
		f.Windows = nil
		for wi, b := range bounds {
			inherent := time.Duration(0)
			if wi == 0 {
				inherent = e.Inherent
			}
			w := measure(f.Stats, b, controls, noise, BlipFor(e.Interval), b.start.Add(inherent))
			w.Verdict = windowVerdict(&w, f.Control, len(controls) > 0, inherent, budget, tolerance)
			f.Windows = append(f.Windows, w)
		}
		f.Verdict = ""
		if len(f.Windows) > 0 {
			f.Verdict = f.Windows[0].Verdict
		}
	}
}

func windowVerdict(w *Window, control, hasControls bool, inherent, budget, tolerance time.Duration) Verdict {
	// What was already down at the marker (a flow a mitigation found
	// broken) is not this window's doing: it must end and counts against
	// the budget, but is not the mechanism's share.
	own := w.Lost - w.Shared - w.Carried
	if !hasControls {
		own -= inherent
	}
	w.OverBudget = w.Lost-inherent > budget
	switch {
	case !w.Recovered:
		return Vulnerable
	case !control && own > budget:
		return Vulnerable // the mechanism alone cost more than the budget
	case w.OverBudget:
		return Degraded // every flow lost it: the trigger itself cost too much
	case !control && own > tolerance:
		return Degraded
	}
	return Resilient
}

// bound is one window: from a marker to the next or to the end.
type bound struct {
	marker     string
	start, end time.Time
}

// windows are the experiment's judged windows: one per marker that is not
// an event, in order; the last ends at the end of observation.
func (e Experiment) windows() []bound {
	var ms []Marker
	for _, m := range e.Markers {
		if !m.Event {
			ms = append(ms, m)
		}
	}
	end := e.Finished
	for _, f := range e.Flows {
		if f.Stats.WindowEnd.After(end) || end.IsZero() {
			end = f.Stats.WindowEnd
		}
	}
	var out []bound
	for i, m := range ms {
		b := bound{marker: m.Name, start: m.At, end: end}
		if i+1 < len(ms) {
			b.end = ms[i+1].At
		}
		out = append(out, b)
	}
	return out
}

// controlsOf are the control flows f is compared with: for a flow the
// failure bites, the control flows on its own node (the same "<node>/"
// prefix) when there are any, else every control flow; for a control flow,
// the other control flows (a drop they all see at once is ambient).
func (e Experiment) controlsOf(f Flow) []Flow {
	var same, all []Flow
	node, _, _ := strings.Cut(f.Name, "/")
	for _, c := range e.Flows {
		if !c.Control || c.Name == f.Name {
			continue
		}
		all = append(all, c)
		if n, _, _ := strings.Cut(c.Name, "/"); n == node {
			same = append(same, c)
		}
	}
	if len(same) > 0 && !f.Control {
		return same
	}
	return all
}

// span is a half-open time interval.
type span struct{ from, to time.Time }

func (s span) len() time.Duration { return s.to.Sub(s.from) }

// clip is the part of outage o inside b (ok false when none).
func clip(o Outage, b bound) (span, bool) {
	s := span{o.Start, o.End}
	if s.from.Before(b.start) {
		s.from = b.start
	}
	if s.to.After(b.end) {
		s.to = b.end
	}
	return s, s.to.After(s.from)
}

// overlap is how much of s the spans cover (they may overlap each other).
func overlap(s span, cover []span) time.Duration {
	var got []span
	for _, c := range cover {
		x := span{maxTime(s.from, c.from), minTime(s.to, c.to)}
		if x.to.After(x.from) {
			got = append(got, x)
		}
	}
	return unionLen(got)
}

// unionLen is the length of the union of spans.
func unionLen(ss []span) time.Duration {
	var total time.Duration
	var cur span
	for len(ss) > 0 {
		// take the earliest remaining span
		i := 0
		for j := range ss {
			if ss[j].from.Before(ss[i].from) {
				i = j
			}
		}
		s := ss[i]
		ss = append(ss[:i:i], ss[i+1:]...)
		switch {
		case cur.to.IsZero() || s.from.After(cur.to):
			total += cur.len()
			cur = s
		case s.to.After(cur.to):
			cur.to = s.to
		}
	}
	return total + cur.len()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// measure is one flow's window: what it lost, what of that its controls
// lost at the same instants, whether it was answering when the window
// closed, and when it last came back for good.
//
// A blip (BlipFor) that began and ended inside the window costs its time
// (Lost, and so the tolerance and the budget) but is nothing to recover
// from: it neither breaks a stable stretch nor moves StableAfter. A flow
// that drops a single probe now and then is judged by what it lost, not
// called "never recovered" because its last drop came late in the window.
//
// An outage after the window's first one that the controls shared (give
// or take the noise floor) is ambient: counted apart, and it neither costs
// the budget nor delays the recovery — unless it starts before faultEnd,
// the end of the outage the trigger causes by design: a Service's backends
// held at zero cut every flow at once, after whatever blip came first, and
// that is the trigger's cost, which the window must show.
func measure(st Stats, b bound, controls []Flow, noise, blipMax time.Duration, faultEnd time.Time) Window {
	w := Window{Marker: b.marker, Start: b.start, End: b.end}
	var cover []span
	for _, c := range controls {
		for _, o := range c.Stats.Outages {
			if s, ok := clip(o, b); ok {
				cover = append(cover, s)
			}
		}
	}
	var last time.Time // end of the last counted outage that was no blip
	for _, o := range st.Outages {
		s, ok := clip(o, b)
		if !ok {
			continue
		}
		atEnd := o.Open || !o.End.Before(b.end)
		blip := !atEnd && !o.Start.Before(b.start) && o.End.Sub(o.Start) < blipMax
		if !blip && !last.IsZero() && s.from.Sub(last) >= Sustain {
			w.Recovered = true // answers stayed up for Sustain after an outage
		}
		shared := overlap(s, cover)
		if w.Outages > 0 && shared > 0 && s.len()-shared <= noise && !atEnd && !s.from.Before(faultEnd) {
			w.Ambient += s.len()
			w.AmbientOutages++
			continue
		}
		if w.Outages == 0 && o.Start.Before(b.start) {
			w.DownAtStart = true
			w.Carried = s.len() - shared
		}
		w.Outages++
		w.Lost += s.len()
		w.Shared += shared
		if atEnd {
			w.DownAtEnd = true
			continue
		}
		if blip {
			w.Blips++
			continue
		}
		last = s.to
		w.StableAfter = s.to.Sub(b.start)
	}
	switch {
	case w.Outages == 0:
		w.Recovered = true
	case !w.DownAtEnd && b.end.Sub(last) >= min(Sustain, b.end.Sub(b.start)/4):
		w.Recovered = true
	}
	return w
}

// words is the window's measurement in one phrase, relative to its marker.
func (w Window) words() string {
	since := "the " + w.Marker
	if w.Marker != "trigger" {
		since = "“" + w.Marker + "”"
	}
	switch {
	case !w.Recovered:
		return fmt.Sprintf("never recovered within %s of %s", Dur(w.End.Sub(w.Start)), since)
	case w.Outages == 0:
		return "no outage after " + since
	case w.DownAtStart && w.Outages == 1:
		return fmt.Sprintf("down at %s, back for good %s after it", since, Dur(w.StableAfter))
	case w.DownAtEnd:
		return fmt.Sprintf("recovered after %s, then down again when the window closed (lost %s until then, in %d %s)", since, Dur(w.Lost), w.Outages, plural1(w.Outages, "outage", "outages"))
	case w.Blips == w.Outages:
		return fmt.Sprintf("lost %s in %d brief %s after %s, answering in between", Dur(w.Lost), w.Outages, plural1(w.Outages, "drop", "drops"), since)
	}
	s := fmt.Sprintf("lost %s in %d %s, stable %s after %s", Dur(w.Lost), w.Outages, plural1(w.Outages, "outage", "outages"), Dur(w.StableAfter), since)
	if w.Shared > 0 {
		s += fmt.Sprintf(" (%s of it shared with the control flows)", Dur(w.Shared))
	}
	if w.Blips > 0 {
		s += fmt.Sprintf("; %d of them brief (a probe or two lost), not waited out", w.Blips)
	}
	if w.AmbientOutages > 0 {
		s += fmt.Sprintf("; %d ambient %s (%s) not counted", w.AmbientOutages, plural1(w.AmbientOutages, "outage", "outages"), Dur(w.Ambient))
	}
	if w.OverBudget {
		s += "; over the budget"
	}
	return s
}

func plural1(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// openOutage returns the outage still open when the flow's window closed.
func openOutage(st Stats) (Outage, bool) {
	for _, o := range st.Outages {
		if o.Open {
			return o, true
		}
	}
	return Outage{}, false
}
