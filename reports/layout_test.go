package reports

import (
	"bytes"
	"fmt"
	"math/rand"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netchaos/netchaos/probe"
)

// checkSlots fails unless the slots keep the layout's promises: no two
// labels on a row overlap, no label's line runs through another label's
// text, every label is inside the plot.
func checkSlots(t *testing.T, ls []label, ss []slot, width float64) {
	t.Helper()
	if len(ss) != len(ls) {
		t.Fatalf("%d slots for %d labels", len(ss), len(ls))
	}
	for i, a := range ss {
		if a.Left < -1 || a.Right > width+1 {
			t.Errorf("label %q at [%.0f, %.0f] sticks out of the plot [0, %.0f]", ls[i].Text, a.Left, a.Right, width)
		}
		if a.Note != (a.Text == "") {
			t.Errorf("label %q: note %v with text %q", ls[i].Text, a.Note, a.Text)
		}
		for j, b := range ss {
			if i == j {
				continue
			}
			if a.Row == b.Row && a.Left < b.Right+labelGap && b.Left < a.Right+labelGap {
				t.Errorf("labels %q [%.0f, %.0f] and %q [%.0f, %.0f] overlap on row %d", ls[i].Text, a.Left, a.Right, ls[j].Text, b.Left, b.Right, a.Row)
			}
			// b's line runs down through the rows below it.
			if x := ls[j].X * width; b.Row > a.Row && !b.NoLine && x > a.Left && x < a.Right {
				t.Errorf("the line of %q (x %.0f, row %d) runs through %q [%.0f, %.0f] on row %d", ls[j].Text, x, b.Row, ls[i].Text, a.Left, a.Right, a.Row)
			}
		}
	}
}

func notes(ss []slot) int {
	n := 0
	for _, s := range ss {
		if s.Note {
			n++
		}
	}
	return n
}

// markerLabels are markers (name, seconds after the trigger) as labels on
// a plot from `from` to `to` seconds.
func markerLabels(from, to float64, ms ...any) []label {
	var ls []label
	for i := 0; i < len(ms); i += 2 {
		name, at := ms[i].(string), ms[i+1].(float64)
		ls = append(ls, label{X: (at - from) / (to - from), Text: name + " " + Rel(t0.Add(secs2d(at)), t0), Key: i == 0})
	}
	return ls
}

// TestPlaceLabelsRealRuns: the marker labels of real runs that overlapped
// or fell back to footnotes get a row each, without overlap.
func TestPlaceLabelsRealRuns(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ls        []label
		maxNotes  int
		maxRowsIn int
	}{
		{"udp-recreate-lb (control build)", markerLabels(-15.2, 62.6, "trigger", 0.0, "service deleted", 0.713, "service re-created", 12.221, "conntrack -D", 47.079), 0, 3},
		{"udp-recreate-lb (as released)", markerLabels(-3.5, 97.0, "trigger", 0.0, "service deleted", 0.409, "service re-created", 6.331, "conntrack -D", 67.018), 0, 3},
		{"hostnetwork-to-hostport: two events right after the mitigation", markerLabels(-10.18, 70.55, "trigger", 0.0, "conntrack -D", 46.653,
			"conntrack -D done on netchaos-worker", 47.058, "conntrack -D done on netchaos-worker2", 47.398, "restart client", 58.907), 1, 4},
		{"fixture", markerLabels(-3, 30, "trigger", 0.0, "service re-created", 1.5, "calico conntrack remove", 15.0), 0, 2},
		{"five markers within a second", markerLabels(-10, 60, "trigger", 0.0, "a", 0.1, "b", 0.2, "c", 0.3, "d", 0.4), 3, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := placeLabels(tc.ls, plotMinWidth, maxMarkRow)
			checkSlots(t, tc.ls, ss, plotMinWidth)
			if n := notes(ss); n > tc.maxNotes {
				t.Errorf("%d labels became footnotes, want at most %d: %+v", n, tc.maxNotes, ss)
			}
			if ss[0].Note {
				t.Errorf("the trigger's label became a footnote: %+v", ss)
			}
			if n := rows(ss); n > tc.maxRowsIn {
				t.Errorf("%d rows, want at most %d", n, tc.maxRowsIn)
			}
		})
	}
}

// TestPlaceLabelsNeverOverlap: 200 sets of random labels, any number, any
// length, anywhere — the promises hold, and the result does not depend on
// the run.
func TestPlaceLabelsNeverOverlap(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	words := []string{"trigger", "conntrack -D", "service deleted", "→ snmp-backend-59689c555d-kk24d, client seen as 172.18.0.4", "x", "restart client", "calico conntrack remove on netchaos-worker2"}
	for n := range 200 {
		var ls []label
		for range 1 + n%14 {
			x := rng.Float64()
			if rng.Intn(3) == 0 {
				x = float64(rng.Intn(3)) / 2 // edges and the middle
			}
			ls = append(ls, label{X: x, Text: words[rng.Intn(len(words))] + " +" + strconv.Itoa(rng.Intn(100)) + " s", Small: rng.Intn(2) == 0})
		}
		maxRows := 1 + n%3
		ss := placeLabels(ls, plotMinWidth, maxRows)
		checkSlots(t, ls, ss, plotMinWidth)
		if fmt.Sprint(ss) != fmt.Sprint(placeLabels(ls, plotMinWidth, maxRows)) {
			t.Fatal("two layouts of the same labels differ")
		}
		if t.Failed() {
			t.Fatalf("labels %+v", ls)
		}
	}
}

// recreate is an experiment shaped like udp-recreate-lb: markers and
// events close together, flows of three kinds on three nodes, responders
// changing right after the mitigation.
func recreate() Experiment {
	ms := []probe.Marker{{Name: "trigger", At: t0}, {Name: "service deleted", At: t0.Add(713 * time.Millisecond), Event: true},
		{Name: "service re-created", At: t0.Add(12221 * time.Millisecond), Event: true}, {Name: "conntrack -D", At: t0.Add(47079 * time.Millisecond)}}
	old := pod("snmp-backend-59689c555d-hpmnv", "10.244.2.16", "netchaos-worker2")
	flip := func(at time.Duration) func(time.Duration) (probe.Identity, string) {
		return func(rel time.Duration) (probe.Identity, string) {
			switch {
			case rel < at:
				return old(rel)
			case rel < at+300*time.Millisecond:
				return probe.Identity{Pod: "snmp-backend-59689c555d-kk24d", IP: "10.244.1.16", Node: "netchaos-worker"}, "10.244.1.1:40162"
			}
			return probe.Identity{Pod: "snmp-backend-59689c555d-kk24d", IP: "10.244.1.16", Node: "netchaos-worker"}, "172.18.0.3:40162"
		}
	}
	e := Experiment{Name: "udp-recreate-lb", Budget: 10 * time.Second, Interval: 10 * time.Millisecond, Started: t0.Add(-15 * time.Second), Finished: t0.Add(62 * time.Second), Markers: MarkersOf(ms)}
	for _, node := range []string{"external", "netchaos-worker", "netchaos-worker2"} {
		e.Flows = append(e.Flows,
			flowSpec{node + "/pinned", probe.UDPPinned, -15 * time.Second, 62 * time.Second, 1453 * time.Millisecond, 47592 * time.Millisecond, false, flip(47592 * time.Millisecond)}.flow(ms, ""),
			flowSpec{node + "/oneway", probe.UDPOneWay, -15 * time.Second, 62 * time.Second, 1563 * time.Millisecond, 47733 * time.Millisecond, false, flip(47733 * time.Millisecond)}.flow(ms, ""),
			control(flowSpec{node + "/fresh", probe.UDPFresh, -15 * time.Second, 62 * time.Second, 372 * time.Millisecond, 1042 * time.Millisecond, false, flip(1042 * time.Millisecond)}.flow(ms, "")),
		)
	}
	Judge(&e)
	return e
}

// TestLayoutRecreate: the chart of a 9-flow experiment: groups of one
// kind, worst first and the controls last and collapsed; positions inside
// the plot; axis labels and responder labels apart.
func TestLayoutRecreate(t *testing.T) {
	e := recreate()
	gs := groups(e)
	var order []string
	for _, g := range gs {
		order = append(order, fmt.Sprintf("%s/%v/%s/open=%v/%d", g.Kind, g.Control, g.Verdict, g.Open, len(g.Flows)))
	}
	if got, want := strings.Join(order, " "), "pinned/false/vulnerable/open=true/3 oneway/false/vulnerable/open=true/3 fresh/true/resilient/open=false/3"; got != want {
		t.Errorf("groups %s, want %s", got, want)
	}
	for _, g := range gs[:2] {
		if len(g.Charts) != 1 {
			t.Errorf("%s: %d charts, want 1 (outages too long to zoom)", g.Kind, len(g.Charts))
		}
	}
	if z := gs[2].Charts; len(z) != 2 || !strings.HasPrefix(z[1].Zoom, "zoom: ") {
		t.Errorf("the control flows' 670 ms outages have no zoom")
	} else if r := z[1].Rows[0]; r.Stable == nil || len(r.Bars) < 2 {
		t.Errorf("zoom row %+v: want answered and lost bars and the back-for-good line", r)
	}
	c := gs[0].Charts[0]
	if len(c.Rows) != 3 || len(c.Marks) != 4 || len(c.Lines) != 4 {
		t.Fatalf("%d rows, %d marker labels, %d lines; want 3, 4, 4", len(c.Rows), len(c.Marks), len(c.Lines))
	}
	for _, m := range c.Marks {
		if strings.HasPrefix(m.Text, "①") {
			t.Errorf("marker %q became a footnote", m.Title)
		}
	}
	pcts := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil || !strings.HasSuffix(s, "%") || v < 0 || v > 100 {
			t.Fatalf("position %q is not a percentage of the plot", s)
		}
		return v
	}
	for _, r := range c.Rows {
		last := -1.0
		for _, b := range r.Bars {
			x, w := pcts(b.X), pcts(b.W)
			if x < last-1e-6 || x+w > 100+1e-6 {
				t.Errorf("%s: bar at %s+%s out of order or out of the plot", r.Flow.Name, b.X, b.W)
			}
			last = x + w
		}
		if w := r.Flow.Windows[0]; (r.Stable != nil) != (w.Recovered && w.Outages > 0) {
			t.Errorf("%s: back-for-good line %v, window %s", r.Flow.Name, r.Stable, w.words())
		}
		if len(r.Ticks) == 0 {
			t.Errorf("%s: no responder change drawn", r.Flow.Name)
		}
	}
	// Axis labels: apart at the narrowest plot.
	prev := -1e9
	for _, a := range c.Axis {
		x := pcts(a.X) / 100 * plotMinWidth
		w := textPx(a.Text) * 11 / 12
		l := map[string]float64{"start": x, "middle": x - w/2, "end": x - w}[a.Anchor]
		if l < prev+labelGap-0.01 {
			t.Errorf("axis label %q runs into the one before", a.Text)
		}
		prev = l + w
	}
	if len(c.Axis) < 6 {
		t.Errorf("%d axis labels over 77 s, want at least 6", len(c.Axis))
	}
}

// TestHTMLLegendHasEveryColour: every bar and line class the page draws
// is in its legend.
func TestHTMLLegendHasEveryColour(t *testing.T) {
	r := fixture()
	r.Experiments = append(r.Experiments, recreate())
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	legend := h[strings.Index(h, `<div class="legend">`):]
	legend = legend[:strings.Index(legend, "</div>")]
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`class="(?:b|m)-([a-z]+)"`).FindAllStringSubmatch(h, -1) {
		used[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`<line class="(stable|resp)"`).FindAllStringSubmatch(h, -1) {
		used[m[1]] = true
	}
	for class := range used {
		name := map[string]string{"thin": "lost", "resp": "responder changed"}[class]
		if name == "" {
			name = class
		}
		if !strings.Contains(legend, `class="`+name+`"`) && !strings.Contains(legend, `class="line `+name+`"`) && !strings.Contains(legend, name) {
			t.Errorf("the page draws %q, the legend does not show it", class)
		}
	}
	for _, want := range []string{"gap", "answered", "lost", "trigger", "event", "stable"} {
		if !used[want] {
			t.Errorf("the test page draws no %q: the test no longer covers it", want)
		}
	}
	// Text keeps its size: no viewBox scales it.
	if strings.Contains(h, "viewBox") {
		t.Error("an SVG has a viewBox: its text would scale with the page")
	}
}

func TestParseCase(t *testing.T) {
	for _, tc := range []struct{ in, placement, target, policy string }{
		{"pod on node without endpoint → LB IP, policy Local", "pod on node without endpoint", "LB IP", "Local"},
		{"hostNetwork on node with endpoint → NodePort other node, policy Cluster", "hostNetwork on node with endpoint", "NodePort other node", "Cluster"},
		{"external host → LB IP (UDP), policy Local", "external host", "LB IP (UDP)", "Local"},
		{"pod on node with endpoint → LB IP ipMode:Proxy, policy Cluster", "pod on node with endpoint", "LB IP ipMode:Proxy", "Cluster"},
		{"pod → LB IP :443 (no listener)", "pod", "LB IP :443 (no listener)", ""},
	} {
		p, tg, pol, ok := parseCase(tc.in)
		if !ok || p != tc.placement || tg != tc.target || pol != tc.policy {
			t.Errorf("parseCase(%q) = %q, %q, %q, %v", tc.in, p, tg, pol, ok)
		}
	}
	for _, bad := range []string{"IPVS / kube-ipvs0 cells", "→ LB IP", "worker/pinned after trigger"} {
		if _, _, _, ok := parseCase(bad); ok {
			t.Errorf("parseCase(%q) parsed", bad)
		}
	}
}

// TestGrid: cells become a grid per policy; placements with no
// expectation and nothing vulnerable are set apart; rows of new targets
// (UDP, ipMode Proxy) need no code.
func TestGrid(t *testing.T) {
	vuln := string(Vulnerable)
	e := Experiment{Name: "traffic-policy-matrix", Expectations: []Expectation{
		{Case: "pod on node without endpoint → LB IP, policy Local", Expected: "reachable", Observed: "reachable", Match: true},
		{Case: "pod on node without endpoint → LB IP (UDP), policy Local", Expected: "reachable", Observed: "timeout", Conformance: "worse", Verdict: vuln},
		{Case: "hostNetwork on node with endpoint → LB IP, policy Local", Observed: "reachable (snat)", Match: true},
		{Case: "hostNetwork on node with endpoint → LB IP ipMode:Proxy, policy Local", Observed: "reachable (snat)", Match: true},
		{Case: "external host → LB IP, policy Cluster", Expected: "reachable (snat)", Observed: "reachable (preserved)", Conformance: "better"},
		{Case: "IPVS / kube-ipvs0 cells", Observed: "not applicable"},
	}}
	rows, g := splitExpectations(e)
	if len(rows) != 0 || len(g.Other) != 1 || len(g.Tables) != 2 {
		t.Fatalf("%d flow rows, %d other cells, %d tables; want 0, 1, 2", len(rows), len(g.Other), len(g.Tables))
	}
	local := g.Tables[0]
	if local.Policy != "Local" || strings.Join(local.Targets, "|") != "LB IP|LB IP (UDP)|LB IP ipMode:Proxy" {
		t.Errorf("policy %q targets %q", local.Policy, local.Targets)
	}
	if len(local.Rows) != 1 || local.Rows[0].Placement != "pod on node without endpoint" || len(local.Quiet) != 1 || local.Quiet[0].Placement != "hostNetwork on node with endpoint" {
		t.Errorf("rows %+v quiet %+v", local.Rows, local.Quiet)
	}
	if got := local.Rows[0].Cells; got[0].Class != "ok" || got[1].Class != "vulnerable" || got[2].Class != "missing" || got[2].X != nil {
		t.Errorf("cells %+v", got)
	}
	if local.Vulnerable != 1 || local.Deviations != 1 {
		t.Errorf("%d vulnerable, %d deviations; want 1, 1", local.Vulnerable, local.Deviations)
	}
	if c := g.Tables[1].Rows[0].Cells[0]; c.Class != "better" {
		t.Errorf("cluster cell %+v, want better", c)
	}
	// Flow rows stay rows; one parsed cell is no grid.
	e = Experiment{Flows: []Flow{{Name: "w/pinned"}}, Expectations: []Expectation{{Case: "w/pinned after trigger"}, {Case: "pod → LB IP"}}}
	if rows, g := splitExpectations(e); len(rows) != 2 || len(g.Tables) != 0 {
		t.Errorf("%d rows, %d tables; want 2, 0", len(rows), len(g.Tables))
	}
}

// TestHTMLTop: the page starts with the gate's result and the verdict
// counts, then per experiment its verdict, its worst flow's time lost and
// when it was back for good (each naming its marker), its conformance with
// direction, its lab profile and outages before the trigger.
func TestHTMLTop(t *testing.T) {
	r := fixture()
	r.Experiments[1].Lab = "kube-proxy-no-ct-cleanup: kube-proxy built without its UDP conntrack cleanup"
	e := recreate()
	f := &e.Flows[0]
	f.Stats.Outages = append([]Outage{{Start: t0.Add(-13 * time.Second), End: t0.Add(-12 * time.Second), Lost: 100}}, f.Stats.Outages...)
	r.Experiments = append(r.Experiments, e)
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	top := h[:strings.Index(h, `<section class="card" id=`)]
	lost, stable := headline(r.Experiments[0])
	for _, want := range []string{
		`<span class="gate">GATE FAILS</span>`, `<b>3</b> vulnerable`, `<b>1</b> degraded`, `<b>1</b> not applicable`,
		lost, stable, "10.410 s after the trigger", "1 worse than expected",
		`<span class="lab">lab kube-proxy-no-ct-cleanup</span>`,
		`⚠ outages before the trigger: external/pinned`,
	} {
		if !strings.Contains(top, want) {
			t.Errorf("the page's top lacks %q", want)
		}
	}
	if !strings.Contains(h, `aria-label="`+Banner(r)+`"`) {
		t.Errorf("the banner is not Banner's %q", Banner(r))
	}
}
