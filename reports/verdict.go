package reports

import "time"

// Judge sets an experiment's verdict from its content, unless it is already
// not-applicable or error:
//
//   - fail: a flow was still down when its window closed after the trigger,
//     or an outage after the trigger was longer than the budget (when set);
//   - finding: an observation or matrix cell differs from the expected table;
//   - pass: otherwise.
//
// Without a budget, "never recovered" is judged against the expected table
// (a known blackhole that the table predicts is a pass, shown as such); with a
// budget, any outage over it fails, expected or not: the budget is the user's
// tolerance, the table is upstream's description.
func Judge(e *Experiment) {
	if e.Verdict == NotApplicable || e.Verdict == Errored {
		return
	}
	e.Verdict, e.Reason = Pass, ""
	mismatch := 0
	for _, f := range e.Flows {
		for i, c := range f.Checks {
			if c.Expected != "" && !c.Match {
				mismatch++
			}
			if i == 0 && e.Budget > 0 {
				if d := triggerOutage(f); c.Never || d > e.Budget {
					e.Verdict = Fail
					e.Reason = "flow " + f.Name + ": outage " + Dur(d) + " over the budget of " + Dur(e.Budget)
					if c.Never {
						e.Reason = "flow " + f.Name + " never recovered (budget " + Dur(e.Budget) + ")"
					}
				}
			}
		}
	}
	for _, c := range e.Cells {
		if !c.Match {
			mismatch++
		}
	}
	if e.Verdict == Pass && mismatch > 0 {
		e.Verdict = Finding
		e.Reason = plural(mismatch, "observation differs", "observations differ") + " from the expected table"
	}
}

// triggerOutage is the flow's outage that the trigger caused (0 if none).
func triggerOutage(f Flow) time.Duration {
	for _, r := range f.Stats.Recoveries {
		if r.Marker == "trigger" {
			return r.Outage
		}
	}
	return 0
}

// ExitCode is what a gate exits with: 1 when any experiment failed its budget
// or errored, else 0 (findings and not-applicable do not fail a gate).
func (r *Report) ExitCode() int {
	for _, e := range r.Experiments {
		if e.Verdict == Fail || e.Verdict == Errored {
			return 1
		}
	}
	return 0
}
