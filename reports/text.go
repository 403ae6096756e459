package reports

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// The phrases both human renderers use, so Markdown and HTML say the same
// thing. An open outage is never printed as a finite length: it is "never
// recovered within the <window> window".

// trigger is the experiment's first trigger marker (named "trigger", else
// the first marker); ok is false when it has none.
func (e Experiment) trigger() (Marker, bool) {
	for _, m := range e.Markers {
		if m.Name == "trigger" {
			return m, true
		}
	}
	if len(e.Markers) > 0 {
		return e.Markers[0], true
	}
	return Marker{}, false
}

// observed is how long the flow was watched after the trigger (its whole
// window without one).
func observed(e Experiment, f Flow) time.Duration {
	st := f.Stats
	if m, ok := e.trigger(); ok && m.At.After(st.WindowStart) && m.At.Before(st.WindowEnd) {
		return st.WindowEnd.Sub(m.At)
	}
	return st.Window()
}

// never is the wording for an open outage.
func never(e Experiment, f Flow) string {
	return "never recovered within the " + Secs(observed(e, f)) + " window"
}

// headline is an experiment's worst flow in the trigger's window: what it
// lost and when it was back for good, naming the marker both are counted
// from, or which flow never recovered.
func headline(e Experiment) (lost, stable string) {
	var worstF *Flow
	for i := range e.Flows {
		f := &e.Flows[i]
		if len(f.Windows) == 0 {
			continue
		}
		if worstF == nil || moreLost(f.Windows[0], worstF.Windows[0]) {
			worstF = f
		}
	}
	if worstF == nil {
		return "—", "—"
	}
	w := worstF.Windows[0]
	switch {
	case !w.Recovered:
		return "never recovered (" + worstF.Name + ")", "never, within " + Dur(w.End.Sub(w.Start)) + " of the " + w.Marker
	case w.Outages == 0:
		return "none", "no outage"
	case w.Outages == w.Blips:
		return fmt.Sprintf("%s (%s)", Dur(w.Lost), worstF.Name), "brief drops only, no outage to recover from"
	}
	return fmt.Sprintf("%s (%s)", Dur(w.Lost), worstF.Name), fmt.Sprintf("%s after the %s", Dur(w.StableAfter), w.Marker)
}

// moreLost orders windows: not recovered first, then by time lost.
func moreLost(a, b Window) bool {
	if a.Recovered != b.Recovered {
		return !a.Recovered
	}
	return a.Lost > b.Lost
}

// mitigationText says, per mitigation, whether the flows that were down
// when it was applied came back, and how fast.
func mitigationText(e Experiment) []string {
	var out []string
	for wi, b := range e.windows() {
		if wi == 0 {
			continue
		}
		var down, back []string
		var slowest time.Duration
		for _, f := range e.Flows {
			if wi >= len(f.Windows) || !f.Windows[wi].DownAtStart {
				continue
			}
			w := f.Windows[wi]
			down = append(down, f.Name)
			if w.Recovered {
				back = append(back, f.Name)
				slowest = max(slowest, w.StableAfter)
			}
		}
		switch {
		case len(down) == 0:
			out = append(out, fmt.Sprintf("%s: no flow was down when it was applied", b.marker))
		case len(back) == len(down):
			out = append(out, fmt.Sprintf("%s: restored %s within %s", b.marker, plural(len(down), "flow", "flows"), Dur(slowest)))
		default:
			var still []string
			for _, n := range down {
				if !slices.Contains(back, n) {
					still = append(still, n)
				}
			}
			out = append(out, fmt.Sprintf("%s: %s still down when its window closed (%s)", b.marker, plural(len(still), "flow", "flows"), strings.Join(still, ", ")))
		}
	}
	return out
}

// outageList lists a flow's outages with starts relative to the trigger.
func outageList(e Experiment, f Flow) []string {
	t0 := e.triggerAt()
	var out []string
	for i, o := range f.Stats.Outages {
		if i == 8 {
			out = append(out, fmt.Sprintf("… %d more", len(f.Stats.Outages)-i+f.Unlisted.Outages))
			break
		}
		if o.Open {
			out = append(out, fmt.Sprintf("from %s: %s (%d lost%s)", Rel(o.Start, t0), never(e, f), o.Lost, results(o)))
		} else {
			out = append(out, fmt.Sprintf("at %s for %s (%d lost%s)", Rel(o.Start, t0), Dur(o.Duration()), o.Lost, results(o)))
		}
	}
	return out
}

// results is ", 3 refused" style detail for outages that were not plain
// timeouts.
func results(o Outage) string {
	var s string
	for _, r := range []string{resultRefused, resultError} {
		if n := o.Results[r]; n > 0 {
			s += fmt.Sprintf(", %d %s", n, r)
		}
	}
	return s
}

// responderText is who answered, in order: "answers came from pod X (ip)
// until +41.200 s, then from pod Y (ip) from +43.000 s".
func responderText(e Experiment, f Flow) string {
	sp := f.Stats.Responders
	if len(sp) == 0 {
		return "no answers at all"
	}
	t0 := e.triggerAt()
	seen := ""
	who := func(s ResponderSpan) string {
		w := s.Responder.String()
		if w == "" {
			w = "an unidentified responder"
		}
		if s.Responder.Node != "" {
			w += " on " + s.Responder.Node
		}
		if s.SeenSource != "" && s.SeenSource != seen {
			w += " (client seen as " + s.SeenSource + ")"
		}
		seen = s.SeenSource
		return w
	}
	if len(sp) == 1 {
		return fmt.Sprintf("all %d answers came from %s", sp[0].Answers, who(sp[0]))
	}
	if len(sp) > maxTicks {
		// Load balanced: answers alternate; count them per responder.
		count, seenAs := map[string]int{}, map[string]bool{}
		var order, sources []string
		for _, s := range sp {
			k := s.Responder.String()
			if s.Responder.Node != "" {
				k += " on " + s.Responder.Node
			}
			if _, ok := count[k]; !ok {
				order = append(order, k)
			}
			count[k] += s.Answers
			if s.SeenSource != "" && !seenAs[s.SeenSource] {
				seenAs[s.SeenSource] = true
				sources = append(sources, s.SeenSource)
			}
		}
		sort.Strings(order)
		sort.Strings(sources)
		var parts []string
		for _, k := range order {
			parts = append(parts, fmt.Sprintf("%s (%d)", k, count[k]))
		}
		seenText := ""
		if len(sources) > 0 {
			seenText = "; client seen as " + strings.Join(sources, ", ")
		}
		return fmt.Sprintf("answers alternated between %d responders (%d changes): %s%s", len(order), len(sp)-1, strings.Join(parts, ", "), seenText)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "answers came from %s until %s", who(sp[0]), Rel(sp[0].Last, t0))
	for i, s := range sp[1:] {
		fmt.Fprintf(&b, ", then from %s from %s", who(s), Rel(s.First, t0))
		if i+2 < len(sp) {
			fmt.Fprintf(&b, " until %s", Rel(s.Last, t0))
		}
	}
	return b.String()
}

// markerList is "trigger at 0, conntrack -D at +45.000 s".
func markerList(e Experiment) string {
	t0 := e.triggerAt()
	var ms []string
	for _, m := range e.Markers {
		ms = append(ms, m.Name+" at "+Rel(m.At, t0))
	}
	return strings.Join(ms, ", ")
}

// envLine is the cluster fingerprint in one line.
func envLine(v Env) string {
	proxy := "kube-proxy " + orUnknown(v.KubeProxyMode)
	if v.KubeProxyVersion != "" && v.KubeProxyVersion != v.KubernetesVersion {
		proxy += " " + v.KubeProxyVersion // a kube-proxy of another release than the API server's
	}
	parts := []string{orUnknown(v.Provider), "Kubernetes " + orUnknown(v.KubernetesVersion), proxy, "CNI " + orUnknown(v.CNI)}
	if v.Nodes > 0 {
		parts = append(parts, plural(v.Nodes, "node", "nodes"))
	}
	if v.NodeOS != "" {
		parts = append(parts, v.NodeOS)
	}
	if v.Kernel != "" {
		parts = append(parts, "kernel "+v.Kernel)
	}
	return strings.Join(parts, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// expected is the Expected cell, or a dash.
func expected(x Expectation) string {
	if x.Expected == "" {
		return "—"
	}
	return x.Expected
}

// matchText is the last column of an expectation row: the conformance of
// the observation to the known-behaviour table, with its direction.
func matchText(x Expectation) string {
	switch {
	case x.Expected == "":
		return "no expectation"
	case x.Match:
		return "✓ as expected"
	case x.Conformance == "better" || x.Conformance == "worse":
		return "✗ " + x.Conformance + " than expected"
	case x.Conformance != "":
		return "✗ " + x.Conformance
	}
	return "✗ differs"
}

// mechanismText is the known failure and its mitigation in one line.
func mechanismText(m *Mechanism) string {
	if m == nil || m.Name == "" {
		return ""
	}
	s := m.Name
	if m.Source != "" {
		s += " (" + m.Source + ")"
	}
	if m.Mitigation != "" {
		s += "; known mitigation: " + m.Mitigation
	}
	return s
}

// Counts of verdicts in a report.
type Counts struct{ Vulnerable, Degraded, Resilient, NotApplicable, Errored int }

// CountVerdicts counts the report's experiments per verdict.
func CountVerdicts(r *Report) Counts {
	var c Counts
	for _, e := range r.Experiments {
		switch e.Verdict {
		case Vulnerable:
			c.Vulnerable++
		case Degraded:
			c.Degraded++
		case Resilient:
			c.Resilient++
		case NotApplicable:
			c.NotApplicable++
		case Errored:
			c.Errored++
		}
	}
	return c
}

// Banner is the report's answer in one line: what a gate on it does, and
// how many experiments came to each verdict.
func Banner(r *Report) string {
	c := CountVerdicts(r)
	gate := "GATE PASSES"
	if r.ExitCode() != 0 {
		gate = "GATE FAILS"
	}
	s := fmt.Sprintf("%s — %d vulnerable, %d degraded, %d resilient, %d not applicable", gate, c.Vulnerable, c.Degraded, c.Resilient, c.NotApplicable)
	if c.Errored > 0 {
		s += fmt.Sprintf(", %d errored", c.Errored)
	}
	return s
}

// conformanceText counts an experiment's rows that left the known-behaviour
// table, by direction ("2 worse than expected, 1 better"), "" when none did.
func conformanceText(e Experiment) string {
	n := map[string]int{}
	for _, x := range e.Expectations {
		if x.Deviates() {
			d := x.Conformance
			if d == "" {
				d = "differs"
			}
			n[d]++
		}
	}
	var s []string
	for _, d := range []string{"worse", "not triggered", "differs", "better"} {
		if n[d] == 0 {
			continue
		}
		switch d {
		case "worse", "better":
			s = append(s, fmt.Sprintf("%d %s than expected", n[d], d))
		default:
			s = append(s, fmt.Sprintf("%d %s", n[d], d))
		}
	}
	return strings.Join(s, ", ")
}

// preTrigger names the flows that lost traffic before the trigger (in the
// steady state): noise on the cluster, or a cluster that was already hurt.
func preTrigger(e Experiment) []string {
	m, ok := e.trigger()
	if !ok {
		return nil
	}
	var out []string
	for _, f := range e.Flows {
		for _, o := range f.Stats.Outages {
			if o.Start.Before(m.At) {
				out = append(out, f.Name)
				break
			}
		}
	}
	return out
}
