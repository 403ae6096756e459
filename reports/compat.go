package reports

// Run is the old name of RunMeta.
//
// Deprecated: use RunMeta.
type Run = RunMeta

// Environment is the old name of Env.
//
// Deprecated: use Env.
type Environment = Env

// Cell is the old name of Expectation.
//
// Deprecated: use Expectation.
type Cell = Expectation

// migrate moves the deprecated Flow.Checks and Experiment.Cells into
// Expectations, so renderers read one shape. It never writes through to
// slices it shares with a copy of e.
func (e *Experiment) migrate() {
	var moved []Expectation
	for _, f := range e.Flows {
		if len(f.Checks) > 0 {
			e.Flows = append([]Flow(nil), e.Flows...)
			break
		}
	}
	for i := range e.Flows {
		f := &e.Flows[i]
		for _, c := range f.Checks {
			moved = append(moved, Expectation{Case: f.Name + " after " + c.Marker, Expected: c.Expected, Observed: c.Observed, Match: c.Match, Source: c.Source})
		}
		f.Checks = nil
	}
	moved = append(moved, e.Cells...)
	e.Cells = nil
	if len(moved) > 0 {
		e.Expectations = append(moved, e.Expectations...) // moved is fresh
	}
}
