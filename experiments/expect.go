package experiments

import (
	"fmt"
	"path"
	"time"

	"github.com/netchaos/netchaos/probe"
)

// Outcome is what happened to a flow after the trigger, before any
// mitigation: the unit expected-outcome tables are written in.
type Outcome string

// Outcomes.
const (
	NoOutage  Outcome = "no outage"
	Recovers  Outcome = "recovers"
	Never     Outcome = "never recovers"
	Unreached Outcome = "never reached" // the flow never answered at all
)

// Expect is one expected outcome: after the marker named Marker (default
// "trigger"), flows whose name matches Flow (a path.Match pattern such as
// "*/pinned") should see Outcome, and Recovers within Within.
type Expect struct {
	Marker  string
	Flow    string
	Outcome Outcome
	Within  time.Duration
	// MinOutage, for Recovers, is how long the flow must at least be down:
	// for an injected fault that must cut the path, a flow that never
	// noticed it is a finding, not a pass. With it, the longest outage in
	// the window is judged (Observed.Longest), not the first.
	MinOutage time.Duration
	Source    string // upstream issue or document the expectation comes from
}

// Want is the expectation in words.
func (x Expect) Want() string {
	if x.Outcome == Recovers && x.MinOutage > 0 {
		return fmt.Sprintf("down ≥ %s, recovers within %s", fmtDur(x.MinOutage), fmtDur(x.Within))
	}
	if x.Outcome == Recovers && x.Within > 0 {
		return fmt.Sprintf("recovers within %s", fmtDur(x.Within))
	}
	return string(x.Outcome)
}

// Rule selects the expectations for one kind of environment. Zero fields
// match anything; the first matching rule of a table wins.
type Rule struct {
	Provider  string
	ProxyMode string
	CNI       string
	MinMinor  int // inclusive
	MaxMinor  int // inclusive; 0 = no upper bound
	Expect    []Expect
}

// Matches reports whether the rule applies to e.
func (r Rule) Matches(e Environment) bool {
	return (r.Provider == "" || r.Provider == e.Provider) &&
		(r.ProxyMode == "" || r.ProxyMode == e.KubeProxyMode) &&
		(r.CNI == "" || r.CNI == e.CNI) &&
		(r.MinMinor == 0 || e.Minor >= r.MinMinor) &&
		(r.MaxMinor == 0 || e.Minor <= r.MaxMinor)
}

// Lookup returns the expectations of the first rule matching e.
func Lookup(table []Rule, e Environment) []Expect {
	for _, r := range table {
		if r.Matches(e) {
			return r.Expect
		}
	}
	return nil
}

// Observed is what one flow did after the trigger, within the window that
// ends at the first mitigation (or the end of observation).
type Observed struct {
	Outcome Outcome
	After   time.Duration // trigger to recovery (Recovers)
	Outage  time.Duration // length of the outage
	Window  time.Duration // trigger to end of the window
	// Longest is the longest outage in the window (running at the trigger
	// or starting after it), LongestAfter the trigger to its end, and
	// LongestOpen whether it was still running when the window closed.
	// Outcome, After and Outage describe the first outage; on a noisy
	// cluster that can be a blip before the fault took hold, so
	// expectations with MinOutage judge the longest one.
	Longest      time.Duration
	LongestAfter time.Duration
	LongestOpen  bool
	// Lost is the time without answers in the window, over Outages
	// outages; Back is from the marker to the end of the last one, after
	// which the flow answered until the window closed (stable recovery).
	// "Recovers within" is judged by Back: a flow that blipped early and
	// went down for long later has not recovered at its first answer.
	Lost    time.Duration
	Outages int
	Back    time.Duration
	// Since names the marker the window starts at ("" or "trigger": the
	// trigger; otherwise a mitigation), for the words.
	Since string
}

// since is the window's start in words.
func (o Observed) since() string {
	if o.Since == "" || o.Since == "trigger" {
		return "the trigger"
	}
	return "“" + o.Since + "”"
}

// String says it in words, never printing an open outage as a finite number.
func (o Observed) String() string {
	switch o.Outcome {
	case Recovers:
		if o.Outages <= 1 {
			return fmt.Sprintf("recovered %s after %s (outage %s)", fmtDur(o.Back), o.since(), fmtDur(o.Lost))
		}
		return fmt.Sprintf("back for good %s after %s; lost %s in %d outages, the longest %s ending %s after it",
			fmtDur(o.Back), o.since(), fmtDur(o.Lost), o.Outages, fmtDur(o.Longest), fmtDur(o.LongestAfter))
	case Never:
		return fmt.Sprintf("never recovered within the %s window (down ≥ %s)", fmtDur(o.Window), fmtDur(o.Outage))
	case Unreached:
		return "never answered"
	}
	return "no outage"
}

// Observe classifies a flow's samples after the trigger at `trigger`, in the
// window ending at `end`.
func Observe(samples []probe.Sample, trigger, end time.Time) Observed {
	var in []probe.Sample
	for _, s := range samples {
		if !s.Sent.After(end) {
			in = append(in, s)
		}
	}
	st := probe.Analyze(in, []probe.Marker{{Name: "trigger", At: trigger}}, end)
	o := Observed{Outcome: NoOutage, Window: end.Sub(trigger)}
	if st.Answered == 0 {
		o.Outcome = Unreached
		return o
	}
	for _, out := range st.Outages {
		if !out.Open && !out.End.After(trigger) {
			continue // over before the trigger
		}
		if d := out.Duration(); d > o.Longest {
			o.Longest, o.LongestAfter, o.LongestOpen = d, out.End.Sub(trigger), out.Open
		}
		from := out.Start
		if from.Before(trigger) {
			from = trigger
		}
		o.Lost += out.End.Sub(from)
		o.Outages++
		o.Back = out.End.Sub(trigger)
	}
	r := st.Recoveries[0]
	switch {
	case r.Never:
		o.Outcome, o.Outage = Never, r.Outage
	case r.Outage > 0:
		o.Outcome, o.After, o.Outage = Recovers, r.After, r.Outage
	}
	return o
}

// Matches reports whether an observation meets the expectation.
func (x Expect) Matches(o Observed) bool {
	switch x.Outcome {
	case Recovers:
		if x.MinOutage > 0 {
			return !o.LongestOpen && o.Longest >= x.MinOutage && (x.Within == 0 || o.LongestAfter <= x.Within)
		}
		return o.Outcome == NoOutage || (o.Outcome == Recovers && (x.Within == 0 || o.Back <= x.Within))
	default:
		return o.Outcome == x.Outcome
	}
}

// Conformance ranks an observation that misses the expectation: "better"
// when the flow lost less than upstream describes (it recovered where the
// table says never), "worse" when it lost more, "not triggered" when a
// fault that must cut the path did not; "" when it meets the expectation.
func (x Expect) Conformance(o Observed) string {
	if x.Matches(o) {
		return ""
	}
	if x.MinOutage > 0 && !o.LongestOpen && o.Longest < x.MinOutage {
		return "not triggered"
	}
	if severity[o.Outcome] < severity[x.Outcome] {
		return "better"
	}
	return "worse"
}

// severity orders outcomes from no loss to total loss.
var severity = map[Outcome]int{NoOutage: 0, Recovers: 1, Never: 2, Unreached: 3}

// For returns the expectation for a flow after a marker, if any.
func For(exps []Expect, marker, flow string) (Expect, bool) {
	for _, x := range exps {
		m := x.Marker
		if m == "" {
			m = "trigger"
		}
		if ok, _ := path.Match(x.Flow, flow); ok && m == marker {
			return x, true
		}
	}
	return Expect{}, false
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3f s", d.Seconds())
	default:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
}
