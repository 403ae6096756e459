package reports

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netchaos/netchaos/probe"
)

// out is an outage from a to b seconds after the trigger.
func out(a, b float64) Outage {
	return Outage{Start: t0.Add(secs2d(a)), End: t0.Add(secs2d(b))}
}

// openFrom is an outage from a seconds after the trigger, still open when
// the window closed at 45 s.
func openFrom(a float64) Outage {
	return Outage{Start: t0.Add(secs2d(a)), End: t0.Add(45 * time.Second), Open: true}
}

// blips are n single lost probes, one every 100 ms from a seconds after
// the trigger.
func blips(a float64, n int) []Outage {
	var os []Outage
	for i := range n {
		at := a + float64(i)/10
		os = append(os, out(at, at+0.01))
	}
	return os
}

func secs2d(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// fl is a flow with outages, observed from 10 s before the trigger to 45 s
// after it.
func fl(name string, control bool, outs ...Outage) Flow {
	return Flow{Name: name, Control: control, Stats: Stats{WindowStart: t0.Add(-10 * time.Second), WindowEnd: t0.Add(45 * time.Second), Outages: outs}}
}

func TestJudge(t *testing.T) {
	trigger := []Marker{{Name: "trigger", At: t0}}
	withMitigation := append(trigger, Marker{Name: "conntrack -D", At: t0.Add(30 * time.Second)})
	withEvent := append(trigger, Marker{Name: "service re-created", At: t0.Add(5 * time.Second), Event: true})
	vuln := Expectation{Case: "pod → LB IP", Observed: "refused", Verdict: string(Vulnerable)}
	tests := []struct {
		name     string
		markers  []Marker
		flows    []Flow
		cells    []Expectation
		inherent time.Duration
		want     Verdict
		reason   string
		// flow verdicts in the trigger window, in flow order
		flowVerdicts []Verdict
	}{
		{"nothing happened", trigger, []Flow{fl("w/pinned", false), fl("w/fresh", true)}, nil, 0, Resilient, "", []Verdict{Resilient, Resilient}},
		{"never recovered is vulnerable", trigger, []Flow{fl("w/pinned", false, openFrom(0.5)), fl("w/fresh", true, out(0.5, 1.5))}, nil, 0,
			Vulnerable, "w/pinned never recovered within 45.000 s of the trigger", []Verdict{Vulnerable, Resilient}},
		{"an outage the controls shared is the trigger's cost", trigger, []Flow{fl("w/pinned", false, out(0, 6.2)), fl("w/fresh", true, out(0.01, 6.15))}, nil, 0,
			Resilient, "", []Verdict{Resilient, Resilient}},
		{"lost beyond the controls is degraded", trigger, []Flow{fl("w/pinned", false, out(0, 3)), fl("w/fresh", true, out(0, 1))}, nil, 0,
			Degraded, "w/pinned lost 3.000 s in 1 outage, stable 3.000 s after the trigger (1.000 s of it shared", []Verdict{Degraded, Resilient}},
		{"controls on the flow's own node are the ones compared", trigger, []Flow{fl("a/pinned", false, out(0, 3)), fl("a/fresh", true), fl("b/fresh", true, out(0, 3))}, nil, 0,
			Degraded, "a/pinned", []Verdict{Degraded, Resilient, Resilient}},
		{"over the budget but shared: the trigger's own cost is degraded, and fails a gate", trigger, []Flow{fl("w/pinned", false, out(0, 12)), fl("w/fresh", true, out(0, 12))}, nil, 0,
			Degraded, "lost 12.000 s", []Verdict{Degraded, Degraded}},
		{"the mechanism's own loss over the budget is vulnerable", trigger, []Flow{fl("w/pinned", false, out(0, 14)), fl("w/fresh", true, out(0, 1))}, nil, 0,
			Vulnerable, "lost 14.000 s", []Verdict{Vulnerable, Resilient}},
		{"the inherent outage is not held against the budget", trigger, []Flow{fl("w/a", false, out(0, 20.2))}, nil, 20 * time.Second,
			Resilient, "", []Verdict{Resilient}},
		{"beyond the inherent outage is degraded", trigger, []Flow{fl("w/a", false, out(0, 21.5))}, nil, 20 * time.Second,
			Degraded, "w/a lost 21.500 s", []Verdict{Degraded}},
		{"no controls: an outage beyond the noise floor is degraded", trigger, []Flow{fl("w/a", false, out(1, 3))}, nil, 0,
			Degraded, "w/a lost 2.000 s", []Verdict{Degraded}},
		{"a later drop the controls shared is ambient", trigger, []Flow{fl("w/pinned", false, out(0, 1), out(19, 19.3)), fl("w/fresh", true, out(0, 1), out(19.01, 19.29))}, nil, 0,
			Resilient, "", []Verdict{Resilient, Resilient}},
		{"the trigger's own outage after a blip is no ambient drop: a hold shows its length", trigger, []Flow{fl("w/oneway", false, out(0.6, 0.61), out(1, 40)), fl("w/fresh", true, out(1, 40))}, nil, 45 * time.Second,
			Resilient, "", []Verdict{Resilient, Resilient}},
		{"down again when the window closed, after recovering: a new outage, counted", trigger, []Flow{fl("w/a", false, out(0, 1), openFrom(44.5))}, nil, 0,
			Degraded, "w/a recovered after the trigger, then down again when the window closed (lost 1.500 s", []Verdict{Degraded}},
		{"down again for good is vulnerable by the budget", trigger, []Flow{fl("w/a", false, out(0, 1), openFrom(20))}, nil, 0,
			Vulnerable, "lost 26.000 s", []Verdict{Vulnerable}},
		{"back just before the window closed is not back for good", trigger, []Flow{fl("w/a", false, out(0, 1), out(2, 44.5))}, nil, 0,
			Vulnerable, "never recovered", []Verdict{Vulnerable}},
		{"single lost probes late in the window are blips: judged by what they lost", trigger, []Flow{fl("w/a", false, out(43, 43.011), out(43.3, 43.31), out(43.5, 43.514), out(44.1, 44.11)), fl("w/fresh", true)}, nil, 0,
			Resilient, "", []Verdict{Resilient, Resilient}},
		{"three lost probes are no blip: back just before the window closed is not back for good", trigger, []Flow{fl("w/a", false, out(44, 44.03)), fl("w/fresh", true)}, nil, 0,
			Vulnerable, "never recovered", []Verdict{Vulnerable, Resilient}},
		{"blips add up: over the tolerance is degraded", trigger, []Flow{fl("w/a", false, blips(10, 110)...), fl("w/fresh", true)}, nil, 0,
			Degraded, "w/a lost 1.100 s in 110 brief drops after the trigger", []Verdict{Degraded, Resilient}},
		{"a vulnerable cell makes the experiment vulnerable", trigger, nil, []Expectation{vuln}, 0, Vulnerable, "pod → LB IP: refused", nil},
		{"a mitigation window is judged on its own", withMitigation, []Flow{fl("w/pinned", false, out(0.5, 30.048)), fl("w/fresh", true, out(0.5, 1.5))}, nil, 0,
			Vulnerable, "never recovered within 30.000 s of the trigger", []Verdict{Vulnerable, Resilient}},
		{"events open no window", withEvent, []Flow{fl("w/pinned", false, out(0, 6)), fl("w/fresh", true, out(0, 6))}, nil, 0,
			Resilient, "", []Verdict{Resilient, Resilient}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := Experiment{Name: "x", Markers: tc.markers, Flows: tc.flows, Expectations: tc.cells, Inherent: tc.inherent, Interval: 10 * time.Millisecond, Finished: t0.Add(45 * time.Second)}
			Judge(&e)
			if e.Verdict != tc.want || !strings.Contains(e.Reason, tc.reason) || (tc.reason == "" && e.Reason != "") {
				t.Errorf("Judge = %s (%q), want %s (%q)", e.Verdict, e.Reason, tc.want, tc.reason)
			}
			for i, want := range tc.flowVerdicts {
				if got := e.Flows[i].Verdict; got != want {
					t.Errorf("flow %s: %s, want %s (%+v)", e.Flows[i].Name, got, want, e.Flows[i].Windows)
				}
			}
		})
	}
}

func TestWindows(t *testing.T) {
	e := Experiment{Name: "x", Interval: 10 * time.Millisecond, Finished: t0.Add(45 * time.Second),
		Markers: []Marker{{Name: "trigger", At: t0}, {Name: "conntrack -D", At: t0.Add(30 * time.Second)}},
		Flows:   []Flow{fl("w/pinned", false, out(-2, -1.9), out(0.5, 30.048), out(40, 40.2)), fl("w/fresh", true, out(0.5, 1.5), out(40, 40.2))}}
	Judge(&e)
	w := e.Flows[0].Windows
	if len(w) != 2 {
		t.Fatalf("%d windows, want 2 (trigger, conntrack -D)", len(w))
	}
	if w[0].Recovered || w[0].Lost != 29500*time.Millisecond || w[0].Shared != time.Second || w[0].Verdict != Vulnerable {
		t.Errorf("trigger window %+v: want not recovered, lost 29.5 s, 1 s shared, vulnerable", w[0])
	}
	if !w[1].DownAtStart || !w[1].Recovered || w[1].Lost != 48*time.Millisecond || w[1].StableAfter != 48*time.Millisecond || w[1].Verdict != Resilient {
		t.Errorf("mitigation window %+v: want down at start, back after 48 ms, resilient", w[1])
	}
	e = Experiment{Name: "x", Interval: 10 * time.Millisecond, Finished: t0.Add(45 * time.Second), Inherent: 45 * time.Second,
		Markers: []Marker{{Name: "trigger", At: t0}},
		Flows:   []Flow{fl("w/oneway", false, out(0.6, 0.61), out(1, 40)), fl("w/fresh", true, out(1, 40))}}
	Judge(&e)
	if h := e.Flows[0].Windows[0]; h.Lost != 39010*time.Millisecond || h.Outages != 2 || h.AmbientOutages != 0 || h.StableAfter != 40*time.Second {
		t.Errorf("held window %+v: want both outages counted (39.01 s lost, stable 40 s after the trigger), none ambient", h)
	}
	if w[1].AmbientOutages != 1 || w[1].Ambient != 200*time.Millisecond {
		t.Errorf("mitigation window %+v: want the shared drop at +40 s as 1 ambient outage of 200 ms", w[1])
	}
}

func TestJudgeKeepsNotApplicableAndError(t *testing.T) {
	open := Flow{Name: "f", Stats: Stats{Outages: []Outage{{Open: true}}}}
	for _, v := range []Verdict{NotApplicable, Errored} {
		e := Experiment{Verdict: v, Reason: "why", Flows: []Flow{open}}
		Judge(&e)
		if e.Verdict != v || e.Reason != "why" {
			t.Errorf("Judge changed %s to %s (%s)", v, e.Verdict, e.Reason)
		}
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		verdicts []Verdict
		want     int
	}{
		{nil, 0},
		{[]Verdict{Resilient, Degraded, NotApplicable}, 0},
		{[]Verdict{Resilient, Vulnerable}, 1},
		{[]Verdict{Errored, Resilient}, 1},
	} {
		if tc.verdicts == nil {
			over := Experiment{Verdict: Degraded, Flows: []Flow{{Windows: []Window{{OverBudget: true}}}}}
			if (&Report{Experiments: []Experiment{over}}).ExitCode() != 1 {
				t.Error("degraded over its budget must fail a gate")
			}
		}
		r := &Report{}
		for _, v := range tc.verdicts {
			r.Experiments = append(r.Experiments, Experiment{Verdict: v})
		}
		if got := r.ExitCode(); got != tc.want {
			t.Errorf("%v: exit %d, want %d", tc.verdicts, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Dur(12 * time.Millisecond), "12 ms"},
		{Dur(1234567 * time.Microsecond), "1.235 s"},
		{Dur(999999 * time.Microsecond), "999 ms"},
		{Dur(0), "0 ms"},
		{Secs(60 * time.Second), "60 s"},
		{Secs(1500 * time.Millisecond), "1.500 s"},
		{Rel(t0.Add(41200*time.Millisecond), t0), "+41.200 s"},
		{Rel(t0.Add(-2*time.Second), t0), "−2.000 s"},
		{Rel(t0, t0), "0"},
		{tickLabel(-2, 1), "−2 s"},
		{tickLabel(0.5, 0.5), "+0.5 s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestWriteLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := fixture().Write(path); err != nil {
		t.Fatal(err)
	}
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := Markdown(&a, fixture()); err != nil {
		t.Fatal(err)
	}
	if err := Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("a report renders differently after a JSON round trip")
	}
	if fi, _ := os.Stat(path); fi.Size() > 400_000 {
		t.Errorf("report.json is %d bytes: timelines are not compact", fi.Size())
	}
}

func TestDecodeSchema(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"schema_version":"netchaos.report/v0"}`, `schema_version "netchaos.report/v0", this netchaos reads "netchaos.report/v2"`},
		{`{"run":{}}`, "no schema_version field"},
		{`[1,2]`, "expected a netchaos report (a JSON object), got an array"},
		{`{"schema_version":"netchaos.report/v2","experiments":[{"name":"x","verdict":"maybe"}]}`, `verdict "maybe" is not one of`},
		{`{"schema_version":"netchaos.report/v2","experiments":[{"verdict":"resilient"}]}`, "has no name"},
	} {
		_, err := Decode([]byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.json, err, tc.want)
		}
	}
	if _, err := Decode([]byte(`{"schema_version":"v9"}`)); !errors.Is(err, ErrSchema) {
		t.Errorf("want ErrSchema, got %v", err)
	}
	if err := (&Report{}).Write(filepath.Join(t.TempDir(), "r.json")); !errors.Is(err, ErrSchema) {
		t.Errorf("Write of a report without schema_version: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}

func TestDiff(t *testing.T) {
	a, b := fixture(), fixture()
	b.Environment.KubernetesVersion = "v1.35.0"
	// T1: the pinned flow recovers after the upgrade (conntrack reconciler).
	fs := flowSpec{"worker/udp-pinned", probe.UDPPinned, -5 * time.Second, 60 * time.Second, 0, 1100 * time.Millisecond, false, pod("statsd-agent-q9d4m", "172.18.0.4", "worker")}
	b.Experiments[0].Flows[0] = fs.flow([]probe.Marker{{Name: "trigger", At: t0}}, "") // the fixture's T1 markers
	b.Experiments[0].Expectations[0].Observed, b.Experiments[0].Expectations[0].Match = "recovered after 1.100 s", false
	Judge(&b.Experiments[0])
	// T4: the hostNetwork cell now matches; a new cell appears.
	b.Experiments[2].Expectations[1].Observed, b.Experiments[2].Expectations[1].Match = "reachable", true
	b.Experiments[2].Expectations[1].Verdict, b.Experiments[2].Expectations[1].Conformance = "", ""
	b.Experiments[2].Expectations = append(b.Experiments[2].Expectations, Expectation{Case: "node → NodePort on other node", Expected: "reachable", Observed: "reachable", Match: true})
	Judge(&b.Experiments[2])
	// T3 not run after.
	b.Experiments = b.Experiments[:3]
	before := a.Experiments[0].Flows[0].Stats.Sent
	d := Diff(a, b, DiffOptions{})
	if a.Experiments[0].Flows[0].Stats.Sent != before || len(a.Experiments) != 4 {
		t.Fatal("Diff changed its input")
	}
	dirs := map[string]string{}
	for _, c := range d.Changes {
		dirs[c.Experiment+"/"+c.What] = c.Direction
	}
	for k, want := range map[string]string{
		"hostport-to-hostnetwork/verdict":                                                      Better,
		"hostport-to-hostnetwork/worker/udp-pinned":                                            Better,
		"traffic-policy-matrix/verdict":                                                        Better,
		"traffic-policy-matrix/hostNetwork pod on node without endpoint → LB IP, policy Local": Better,
		"traffic-policy-matrix/node → NodePort on other node":                                  "",
		"networkd-restart/experiment":                                                          "",
	} {
		got, ok := dirs[k]
		if !ok || got != want {
			t.Errorf("%s: direction %q (present %v), want %q", k, got, ok, want)
		}
	}
	if len(d.Changes) != 6 || d.Worse() {
		t.Errorf("%d changes (worse %v), want 6, none worse: %+v", len(d.Changes), d.Worse(), d.Changes)
	}
	var buf bytes.Buffer
	if err := DiffMarkdown(&buf, d); err != nil {
		t.Fatal(err)
	}
	golden(t, "diff.md", buf.Bytes())
	if self := Diff(a, a, DiffOptions{}); len(self.Changes) != 0 || self.Worse() {
		t.Errorf("self diff: %s", self)
	}
	// The other way round the upgrade is a regression: the gate fails.
	if back := Diff(b, a, DiffOptions{}); !back.Worse() || !strings.HasPrefix(back.Headline(), "WORSE") {
		t.Errorf("reverse diff: %s (%s)", back, back.Headline())
	}
}

// mkLost is a one-experiment report: a pinned flow that lost `lost` after
// the trigger (never recovered when lost < 0) beside two control flows
// whose time lost differs by spread.
func mkLost(lost, spread time.Duration) *Report {
	win := func(l time.Duration) []Window {
		if l < 0 {
			return []Window{{Marker: "trigger"}}
		}
		return []Window{{Marker: "trigger", Lost: l, Recovered: true}}
	}
	return &Report{Experiments: []Experiment{{Name: "x", Interval: 10 * time.Millisecond, Verdict: Degraded, Flows: []Flow{
		{Name: "a/pinned", Role: "worker node", Windows: win(lost)},
		{Name: "a/fresh", Role: "worker node", Control: true, Windows: win(time.Second)},
		{Name: "b/fresh", Role: "worker node", Control: true, Windows: win(time.Second + spread)},
	}}}}
}

func TestDiffThreshold(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name         string
		a, b, spread time.Duration
		threshold    time.Duration
		want         string
	}{
		{"within the controls' own spread is noise", ms(1841), ms(2112), ms(400), 0, ""},
		{"no spread: two probe intervals decide", ms(1841), ms(2112), 0, 0, Worse},
		{"jitter under two probe intervals", ms(1841), ms(1855), 0, 0, ""},
		{"a set threshold wins", ms(1841), ms(2500), 0, time.Second, ""},
		{"never recovering is worse whatever the threshold", ms(1841), -1, 0, time.Hour, Worse},
		{"recovering again is better", -1, ms(3000), 0, 0, Better},
		{"much less lost is better", ms(10000), ms(2000), ms(400), 0, Better},
	} {
		d := Diff(mkLost(tc.a, tc.spread), mkLost(tc.b, tc.spread), DiffOptions{Threshold: tc.threshold})
		var got []string
		for _, c := range d.Changes {
			if c.What == "worker node/pinned" {
				got = append(got, c.Direction)
			}
		}
		if (tc.want == "" && len(got) != 0) || (tc.want != "" && (len(got) != 1 || got[0] != tc.want)) {
			t.Errorf("%s: %+v, want %q", tc.name, d.Changes, tc.want)
		}
		if d.Worse() != (tc.want == Worse) {
			t.Errorf("%s: Worse() = %v", tc.name, d.Worse())
		}
	}
	none := Diff(mkLost(ms(1), 0), &Report{Experiments: []Experiment{{Name: "other"}}}, DiffOptions{})
	if len(none.Shared) != 0 || !strings.Contains(none.Headline(), "share no experiment") {
		t.Errorf("unrelated reports: %s", none.Headline())
	}
}

func TestResponderText(t *testing.T) {
	a := Identity{Pod: "a", IP: "10.0.0.1", Node: "n1"}
	b := Identity{Pod: "b", IP: "10.0.0.2", Node: "n2"}
	span := func(id Identity, from, to time.Duration, seen string) ResponderSpan {
		return ResponderSpan{Responder: id, SeenSource: seen, First: t0.Add(from), Last: t0.Add(to), Answers: 1}
	}
	var alternating []ResponderSpan
	for i := 0; i < 20; i++ {
		alternating = append(alternating, span([]Identity{a, b}[i%2], time.Duration(i)*time.Second, time.Duration(i)*time.Second, "10.0.0.9"))
	}
	e := Experiment{Markers: []Marker{{Name: "trigger", At: t0}}}
	for _, tc := range []struct {
		spans []ResponderSpan
		want  string
	}{
		{nil, "no answers at all"},
		{[]ResponderSpan{span(a, -time.Second, time.Minute, "10.0.0.9")}, "all 1 answers came from a (10.0.0.1) on n1 (client seen as 10.0.0.9)"},
		{[]ResponderSpan{span(a, -time.Second, 41200*time.Millisecond, "10.0.0.9"), span(b, 43*time.Second, time.Minute, "172.18.0.2")},
			"answers came from a (10.0.0.1) on n1 (client seen as 10.0.0.9) until +41.200 s, then from b (10.0.0.2) on n2 (client seen as 172.18.0.2) from +43.000 s"},
		{alternating, "answers alternated between 2 responders (19 changes): a (10.0.0.1) on n1 (10), b (10.0.0.2) on n2 (10); client seen as 10.0.0.9"},
	} {
		if got := responderText(e, Flow{Stats: Stats{Responders: tc.spans}}); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

// A v1 report (pass / fail / finding) is judged again on load.
func TestDecodeV1Rejudges(t *testing.T) {
	v1 := `{"schema_version":"netchaos.report/v1","experiments":[
	 {"name":"t1","verdict":"pass","markers":[{"name":"trigger","at":"2026-11-22T12:00:00Z"}],"finished":"2026-11-22T12:00:45Z",
	  "flows":[{"name":"w/pinned","stats":{"window_start":"2026-11-22T11:59:50Z","window_end":"2026-11-22T12:00:45Z",
	   "outages":[{"start":"2026-11-22T12:00:01Z","end":"2026-11-22T12:00:45Z","open":true,"lost":4400}]}}]},
	 {"name":"t3","verdict":"not-applicable","reason":"no networkd"}]}`
	r, err := Decode([]byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	if r.SchemaVersion != SchemaVersion || r.Experiments[0].Verdict != Vulnerable || r.Experiments[1].Verdict != NotApplicable {
		t.Fatalf("v1 report judged %s / %s (schema %s), want vulnerable / not-applicable", r.Experiments[0].Verdict, r.Experiments[1].Verdict, r.SchemaVersion)
	}
	if n := r.Environment.Notes; len(n) == 0 || !strings.Contains(n[len(n)-1], "re-judged") {
		t.Errorf("notes %q do not say the report was re-judged", n)
	}
}

func TestTrimKeepsTheLongestAndTheOpen(t *testing.T) {
	var outs []Outage
	for i := range 100 {
		outs = append(outs, out(float64(i), float64(i)+0.01))
	}
	outs = append(outs, out(200, 203), openFrom(300))
	f := Flow{Name: "x", Stats: Stats{Outages: outs}}
	f.Trim()
	if len(f.Stats.Outages) != MaxListed || f.Unlisted.Outages != 102-MaxListed {
		t.Fatalf("kept %d, unlisted %d", len(f.Stats.Outages), f.Unlisted.Outages)
	}
	last := f.Stats.Outages[len(f.Stats.Outages)-1]
	if !last.Open || f.Stats.Outages[len(f.Stats.Outages)-2].Duration() != 3*time.Second {
		t.Errorf("the open and the longest outage must stay, in time order: %+v", f.Stats.Outages[len(f.Stats.Outages)-2:])
	}
	if d := f.Unlisted.Lost - time.Duration(102-MaxListed)*10*time.Millisecond; d > time.Microsecond || d < -time.Microsecond {
		t.Errorf("unlisted lost %s", f.Unlisted.Lost)
	}
}

func TestMarkControlsOnlyOnV1(t *testing.T) {
	v2 := &Report{Experiments: []Experiment{{Name: "x", Verdict: Resilient, Flows: []Flow{{Name: "n/fresh"}}}}}
	v2.MarkControls(func(string) []string { return []string{"*/fresh"} })
	if v2.Experiments[0].Flows[0].Control {
		t.Error("a v2 report names its own controls; MarkControls must leave it")
	}
	v1 := &Report{FromV1: true, Environment: Env{Notes: []string{"re-judged from a " + schemaV1 + " report: control flows unknown"}},
		Experiments: []Experiment{{Name: "x", Verdict: Resilient, Interval: 10 * time.Millisecond, Flows: []Flow{{Name: "n/fresh"}, {Name: "n/pinned"}}}}}
	v1.MarkControls(func(string) []string { return []string{"*/fresh"} })
	if f := v1.Experiments[0].Flows; !f[0].Control || f[1].Control {
		t.Errorf("controls after MarkControls: fresh %v pinned %v, want true false", f[0].Control, f[1].Control)
	}
	if !strings.Contains(v1.Environment.Notes[0], "as this version of each experiment names them") {
		t.Errorf("note not updated: %q", v1.Environment.Notes[0])
	}
}
