package reports

import (
	"fmt"
	"math/rand"
	"strconv"
	"testing"
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
			ss := placeLabels(tc.ls, plotMinWidth, 3)
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

// TestPlaceLabelsNeverOverlap: random labels, any number, any length,
// anywhere — the promises hold, and the result does not depend on run.
func TestPlaceLabelsNeverOverlap(t *testing.T) {
	rng := rand.New(rand.NewSource(13))
	words := []string{"trigger", "conntrack -D", "service deleted", "→ snmp-backend-59689c555d-kk24d, client seen as 172.18.0.4", "x", "restart client", "calico conntrack remove on netchaos-worker2"}
	for n := range 400 {
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
