package trafficpolicy

import (
	"testing"
	"time"

	"github.com/netchaos/netchaos/experiments/probe"
)

func TestClassify(t *testing.T) {
	ok := func(local, seen string) probe.Sample {
		return probe.Sample{Result: probe.OK, Local: local + ":40000", SeenSource: seen + ":40000", Sent: time.Now()}
	}
	lost := func(r probe.Result) probe.Sample { return probe.Sample{Result: r, Err: "x"} }
	tests := []struct {
		name    string
		samples []probe.Sample
		result  string
		source  string
	}{
		{"all answered, source kept", []probe.Sample{ok("10.244.1.5", "10.244.1.5"), ok("10.244.1.5", "10.244.1.5")}, Reachable, "preserved"},
		{"all answered, SNAT", []probe.Sample{ok("10.244.1.5", "172.18.0.3")}, Reachable, "snat"},
		{"refused", []probe.Sample{lost(probe.Refused), lost(probe.Refused), lost(probe.Timeout)}, Refused, ""},
		{"timeout", []probe.Sample{lost(probe.Timeout), lost(probe.Timeout)}, Timeout, ""},
		{"partial", []probe.Sample{ok("a", "a"), lost(probe.Timeout)}, Partial, "preserved"},
		{"nothing", nil, NA, ""},
	}
	for _, tc := range tests {
		c := classify(tc.samples)
		if c.Result != tc.result || c.SourceIP != tc.source {
			t.Errorf("%s: got %s/%s, want %s/%s", tc.name, c.Result, c.SourceIP, tc.result, tc.source)
		}
	}
}

func TestWantMatches(t *testing.T) {
	c := Cell{Result: Reachable, SourceIP: "snat"}
	if !(want{outcome: Reachable}).matches(c) {
		t.Error("plain reachable should match any source")
	}
	if (want{outcome: Reachable + " (preserved)"}).matches(c) {
		t.Error("preserved should not match snat")
	}
	if !(want{outcome: Reachable + " (snat)"}).matches(c) {
		t.Error("snat should match snat")
	}
}
