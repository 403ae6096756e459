package experiments

import (
	"strings"
	"time"

	"github.com/netchaos/netchaos/probe"
	"github.com/netchaos/netchaos/reports"
)

// Version of the tool, stamped into reports (set by the CLI).
var Version = "dev"

// Report builds the run's resilience report from its results, judging each
// experiment against its budget and expectations.
func (e *Env) Report(results []Result, finished time.Time) *reports.Report {
	c := e.Cluster
	// The cluster as its runs outside a lab profile saw it: a report that
	// sets a positive control beside a twin in another profile (kube-proxy
	// v1.31) names the twin's profile in its row, not in the header.
	for _, res := range results {
		if res.Environment.Lab == "" && res.Environment.KubernetesVersion != "" {
			c = res.Environment
			break
		}
	}
	nodes := len(c.Nodes)
	if c.AllNodes > 0 {
		nodes = c.AllNodes
	}
	r := &reports.Report{
		SchemaVersion: reports.SchemaVersion,
		Run:           reports.RunMeta{ID: e.RunID, Tool: "netchaos " + Version, Context: e.Context, Finished: finished},
		Environment: reports.Env{Provider: c.Provider, KubernetesVersion: c.KubernetesVersion, KubeProxyMode: c.KubeProxyMode, KubeProxyVersion: c.KubeProxyVersion,
			CNI: c.CNI, NodeOS: c.NodeOS, Kernel: c.Kernel, Nodes: nodes, Notes: c.Notes},
	}
	for i, res := range results {
		if i == 0 || res.Started.Before(r.Run.Started) {
			r.Run.Started = res.Started
		}
		r.Experiments = append(r.Experiments, reportOf(res))
	}
	if r.Run.Started.IsZero() {
		r.Run.Started = finished
	}
	return r
}

func reportOf(res Result) reports.Experiment {
	x := reports.Experiment{Name: res.Name, Title: res.Info.Title, Trigger: res.Info.Trigger, Sources: res.Info.Sources,
		Lab: res.Environment.Lab, Budget: res.Budget, Inherent: res.Info.Inherent, Interval: res.Interval, Tolerance: res.Info.Tolerance,
		Started: res.Started, Finished: res.Finished, Markers: reports.MarkersOf(res.Markers)}
	if x.Budget == 0 {
		x.Budget = reports.DefaultBudget
	}
	if m := res.Info.Mechanism; m.Name != "" {
		x.Mechanism = &reports.Mechanism{Name: m.Name, Source: m.Source, Mitigation: m.Mitigation}
	}
	switch {
	case !res.Applicable:
		x.Verdict, x.Reason = reports.NotApplicable, res.Reason
	case res.Err != nil:
		x.Verdict, x.Reason = reports.Errored, res.Err.Error()
	}
	for _, f := range res.Flows {
		f.Stats.Responders = compactResponders(f.Stats.Responders)
		x.Flows = append(x.Flows, reports.Flow{Name: f.Name, Control: f.Control, Role: roleOf(f.Name, res.Environment), Stats: reports.StatsOf(f.Stats),
			Timeline: reports.Bucketize(f.Samples, f.Stats.WindowStart, f.Stats.WindowEnd, res.Interval, res.Markers)})
		for _, c := range f.Checks {
			rc := reports.Expectation{Case: f.Name + " after " + c.Marker, Observed: c.Observed.String(), Match: c.Match, Conformance: c.Conformance}
			if c.Expect != nil {
				rc.Expected, rc.Source = c.Expect.Want(), c.Expect.Source
			}
			x.Expectations = append(x.Expectations, rc)
		}
	}
	for _, c := range res.Cells {
		x.Expectations = append(x.Expectations, reports.Expectation{Case: c.Case, Expected: c.Expected, Observed: c.Observed,
			Match: c.Match, Source: c.Source, Verdict: c.Verdict})
	}
	for _, ev := range res.Evidence {
		x.Evidence = append(x.Evidence, reports.Evidence(ev))
	}
	for _, a := range res.Actions {
		x.Actions = append(x.Actions, reports.Action(a))
	}
	reports.Judge(&x)
	for i := range x.Flows {
		x.Flows[i].Trim()
	}
	return x
}

// roleOf is where a flow's client sits, from its "<node>/" prefix: the
// runner's host, a control-plane node or a worker node.
func roleOf(flow string, env Environment) string {
	node, _, _ := strings.Cut(flow, "/")
	if node == "external" {
		return "outside the cluster"
	}
	for _, n := range env.Nodes {
		if n.Name == node && n.ControlPlane {
			return "control-plane node"
		}
		if n.Name == node {
			return "worker node"
		}
	}
	return node
}

// maxSpans bounds the responder changes kept per flow. A load-balanced flow
// alternates backends on every probe — a span per probe, thousands of them —
// so past this many the spans are summed per responder instead: who
// answered, first and last time, how often.
const maxSpans = 50

func compactResponders(spans []probe.ResponderSpan) []probe.ResponderSpan {
	if len(spans) <= maxSpans {
		return spans
	}
	var out []probe.ResponderSpan
	index := map[probe.ResponderSpan]int{}
	for _, s := range spans {
		k := probe.ResponderSpan{Responder: s.Responder, SeenSource: s.SeenSource}
		i, ok := index[k]
		if !ok {
			index[k] = len(out)
			out = append(out, s)
			continue
		}
		if s.Last.After(out[i].Last) {
			out[i].Last = s.Last
		}
		out[i].Answers += s.Answers
	}
	return out
}
