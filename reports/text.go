package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/netchaos/netchaos/experiments/probe"
)

// The phrases both human renderers use, so Markdown and HTML say the same
// thing. An open outage is never printed as a finite length: it is "never
// recovered within the <window> window".

// trigger is the experiment's first trigger marker (named "trigger", else
// the first marker); ok is false when it has none.
func (e Experiment) trigger() (probe.Marker, bool) {
	for _, m := range e.Markers {
		if m.Name == "trigger" {
			return m, true
		}
	}
	if len(e.Markers) > 0 {
		return e.Markers[0], true
	}
	return probe.Marker{}, false
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

// longest is a flow's longest outage in words.
func longest(e Experiment, f Flow) string {
	if _, open := openOutage(f.Stats); open {
		return never(e, f)
	}
	if f.Stats.LongestGap == 0 {
		return "none"
	}
	return Dur(f.Stats.LongestGap)
}

// recovery is how the flow came back after the trigger.
func recovery(e Experiment, f Flow) string {
	m, ok := e.trigger()
	if !ok {
		if _, open := openOutage(f.Stats); open {
			return never(e, f)
		}
		return "—"
	}
	for _, r := range f.Stats.Recoveries {
		if r.Marker != m.Name {
			continue
		}
		switch {
		case r.Never:
			return never(e, f)
		case r.Outage == 0:
			return "no outage"
		}
		return fmt.Sprintf("answered again %s after the %s (outage %s)", Dur(r.After), m.Name, Dur(r.Outage))
	}
	return "—"
}

// worst summarises an experiment's flows: the longest outage, or which flow
// never recovered.
func worst(e Experiment) string {
	if len(e.Flows) == 0 {
		return "—"
	}
	var d time.Duration
	var downs []string
	for _, f := range e.Flows {
		if _, open := openOutage(f.Stats); open {
			downs = append(downs, f.Name)
		}
		d = max(d, f.Stats.LongestGap)
	}
	switch {
	case len(downs) > 0:
		return "never recovered: " + strings.Join(downs, ", ")
	case d == 0:
		return "none"
	}
	return Dur(d)
}

// worstRecovery is the slowest recovery after the trigger over all flows.
func worstRecovery(e Experiment) string {
	m, ok := e.trigger()
	if len(e.Flows) == 0 || !ok {
		return "—"
	}
	var slow time.Duration
	for _, f := range e.Flows {
		for _, r := range f.Stats.Recoveries {
			if r.Marker != m.Name {
				continue
			}
			if r.Never {
				return never(e, f) + " (" + f.Name + ")"
			}
			slow = max(slow, r.After)
		}
	}
	if slow == 0 {
		return "no outage"
	}
	return "all flows within " + Dur(slow)
}

// outageList lists a flow's outages with starts relative to the trigger.
func outageList(e Experiment, f Flow) []string {
	t0 := e.triggerAt()
	var out []string
	for i, o := range f.Stats.Outages {
		if i == 8 {
			out = append(out, fmt.Sprintf("… %d more", len(f.Stats.Outages)-i))
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
func results(o probe.Outage) string {
	var s string
	for _, r := range []probe.Result{probe.Refused, probe.Error} {
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
	who := func(s probe.ResponderSpan) string {
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
	parts := []string{orUnknown(v.Provider), "Kubernetes " + orUnknown(v.KubernetesVersion), "kube-proxy " + orUnknown(v.KubeProxyMode), "CNI " + orUnknown(v.CNI)}
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

// matchText is the last column of an expectation row.
func matchText(x Expectation) string {
	switch {
	case x.Expected == "":
		return "no expectation"
	case x.Match:
		return "✓ as expected"
	}
	return "✗ differs"
}
