package reports

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/netchaos/netchaos/probe"
)

// StatsOf and MarkersOf copy everything the probe measured: the report
// writes what the probe's own types would have written. A probe type that
// gains a field fails here, and the schema change is a decision (a field in
// stats.go), not a side effect.
func TestFromProbeWritesWhatTheProbeMeasured(t *testing.T) {
	ms := []probe.Marker{{Name: "trigger", At: t0}, {Name: "service re-created", At: t0.Add(time.Second), Event: true}}
	who := func(rel time.Duration) (probe.Identity, string) {
		if rel < 1450*time.Millisecond {
			return probe.Identity{Pod: "a", IP: "10.244.1.7", Node: "worker"}, "10.244.1.12:40001"
		}
		return probe.Identity{IP: "172.18.0.4"}, "172.18.0.9:40001"
	}
	for _, fs := range []flowSpec{
		{"w/tcp-reused", probe.TCPReused, -time.Second, 5 * time.Second, 1100 * time.Millisecond, 1450 * time.Millisecond, true, who},
		{"w/udp-pinned", probe.UDPPinned, -time.Second, 5 * time.Second, 0, -1, false, who},
		{"w/never-sent", probe.UDPFresh, 0, 0, 0, 0, false, who},
	} {
		st := probe.Analyze(fs.samples(), ms, t0.Add(fs.to))
		want, _ := json.Marshal(st)
		got, _ := json.Marshal(StatsOf(st))
		if string(got) != string(want) {
			t.Errorf("%s: the probe's stats\n%s\nthe report's\n%s", fs.name, want, got)
		}
	}
	want, _ := json.Marshal(ms)
	got, _ := json.Marshal(MarkersOf(ms))
	if string(got) != string(want) {
		t.Errorf("markers: the probe's\n%s\nthe report's\n%s", want, got)
	}
	if MarkersOf(nil) != nil {
		t.Error("no markers are written as none")
	}
	if string(probe.Refused) != resultRefused || string(probe.Error) != resultError {
		t.Errorf("the renderers name outcomes %q and %q; the probe calls them %q and %q", resultRefused, resultError, probe.Refused, probe.Error)
	}
}
