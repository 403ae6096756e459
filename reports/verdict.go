package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/netchaos/netchaos/experiments/probe"
)

// Assess computes an experiment's verdict from its flows, its expectations
// and its outage budget. Pure. The rule, first match wins:
//
//   - fail: some flow has an open outage (it was still down when its window
//     closed: it never recovered, whatever the expected table says), or,
//     with a budget (> 0), some flow's longest outage exceeds the budget;
//   - finding: no budget violation, but some expectation with an expected
//     value was not met (the cluster behaves differently from upstream's
//     description of this environment: worth reading, not a failure);
//   - pass: otherwise.
//
// Not-applicable and error are not computed here: Judge keeps them.
func Assess(flows []Flow, expectations []Expectation, budget time.Duration) (Verdict, string) {
	var fails []string
	for _, f := range flows {
		if _, open := openOutage(f.Stats); open {
			fails = append(fails, f.Name+" never recovered (still down when its window closed)")
			continue
		}
		if budget > 0 && f.Stats.LongestGap > budget {
			fails = append(fails, fmt.Sprintf("%s: longest outage %s exceeds the budget of %s", f.Name, Dur(f.Stats.LongestGap), Dur(budget)))
		}
	}
	if len(fails) > 0 {
		return Fail, strings.Join(fails, "; ")
	}
	var dev []string
	for _, x := range expectations {
		if x.Deviates() {
			dev = append(dev, x.Case)
		}
	}
	if len(dev) == 0 {
		return Pass, ""
	}
	n := len(dev)
	if n > 3 {
		dev = append(dev[:3], fmt.Sprintf("%d more", n-3))
	}
	return Finding, plural(n, "observation differs", "observations differ") + " from the expected table: " + strings.Join(dev, "; ")
}

// openOutage returns the outage still open when the flow's window closed.
func openOutage(st probe.FlowStats) (probe.Outage, bool) {
	for _, o := range st.Outages {
		if o.Open {
			return o, true
		}
	}
	return probe.Outage{}, false
}

// Judge sets the experiment's verdict and reason with Assess, unless it is
// already not-applicable or error.
func Judge(e *Experiment) {
	if e.Verdict == NotApplicable || e.Verdict == Errored {
		return
	}
	e.Verdict, e.Reason = Assess(e.Flows, e.Expectations, e.Budget)
}

// ExitCode is what a gate exits with: 1 when any experiment failed or
// errored, else 0 (pass, finding and not-applicable do not fail a gate).
func (r *Report) ExitCode() int {
	for _, e := range r.Experiments {
		if e.Verdict == Fail || e.Verdict == Errored {
			return 1
		}
	}
	return 0
}
