package experiments

import (
	"strings"
	"testing"
	"time"

	"github.com/netchaos/netchaos/probe"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// samples at 10 ms: '.' answered, 'x' lost.
func samples(p string) []probe.Sample {
	var out []probe.Sample
	for i, c := range p {
		s := probe.Sample{Flow: "n/pinned", Seq: uint64(i), Sent: t0.Add(time.Duration(i) * 10 * time.Millisecond), Result: probe.Timeout}
		if c == '.' {
			s.Result = probe.OK
		}
		out = append(out, s)
	}
	return out
}

func TestObserve(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		pattern string
		trigger time.Duration
		end     time.Duration
		want    Observed
	}{
		{".....", ms(20), ms(40), Observed{Outcome: NoOutage, Window: ms(20)}},
		{"..xx..", ms(15), ms(50), Observed{Outcome: Recovers, After: ms(25), Outage: ms(20), Window: ms(35),
			Longest: ms(20), LongestAfter: ms(25), Lost: ms(20), Outages: 1, Back: ms(25)}},
		// Lost until the window ends (the mitigation), answered after it: never by itself.
		{"..xxxx..", ms(15), ms(45), Observed{Outcome: Never, Outage: ms(25), Window: ms(30),
			Longest: ms(25), LongestAfter: ms(30), LongestOpen: true, Lost: ms(25), Outages: 1, Back: ms(30)}},
		// A blip first, then the real outage: first and longest differ.
		{"..x...xxxxx..", ms(15), ms(120), Observed{Outcome: Recovers, After: ms(15), Outage: ms(10), Window: ms(105),
			Longest: ms(50), LongestAfter: ms(95), Lost: ms(60), Outages: 2, Back: ms(95)}},
		// An outage over before the trigger is no part of the window.
		{"xxxxx.........x..", ms(60), ms(160), Observed{Outcome: Recovers, After: ms(90), Outage: ms(10), Window: ms(100),
			Longest: ms(10), LongestAfter: ms(90), Lost: ms(10), Outages: 1, Back: ms(90)}},
		{"xxxx", 0, ms(30), Observed{Outcome: Unreached, Window: ms(30)}},
	}
	for _, tc := range tests {
		got := Observe(samples(tc.pattern), t0.Add(tc.trigger), t0.Add(tc.end))
		if got != tc.want {
			t.Errorf("%s: got %#v, want %#v", tc.pattern, got, tc.want)
		}
	}
}

func TestObservedStringNeverLooksFinite(t *testing.T) {
	s := Observed{Outcome: Never, Outage: 44 * time.Second, Window: 45 * time.Second}.String()
	if !strings.Contains(s, "never recovered within the 45.000 s window") {
		t.Fatalf("got %q", s)
	}
}

func TestExpectMatches(t *testing.T) {
	rec := Expect{Outcome: Recovers, Within: time.Second}
	cut := Expect{Outcome: Recovers, Within: 12 * time.Second, MinOutage: 5 * time.Second}
	cases := []struct {
		x    Expect
		o    Observed
		want bool
	}{
		{rec, Observed{Outcome: Recovers, After: 900 * time.Millisecond, Back: 900 * time.Millisecond}, true},
		{rec, Observed{Outcome: Recovers, After: 2 * time.Second, Back: 2 * time.Second}, false},
		// back after a blip, then down again for long: judged by the last
		{rec, Observed{Outcome: Recovers, After: 200 * time.Millisecond, Back: 6 * time.Second}, false},
		{rec, Observed{Outcome: NoOutage}, true},
		{rec, Observed{Outcome: Never}, false},
		{Expect{Outcome: Never}, Observed{Outcome: Never}, true},
		{Expect{Outcome: Never}, Observed{Outcome: Recovers}, false},
		// a fault that must cut the path: not noticing it is no pass; the
		// longest outage is judged, so a blip before it does not count
		{cut, Observed{Outcome: NoOutage}, false},
		{cut, Observed{Outcome: Recovers, After: 10 * time.Second, Outage: 2 * time.Second, Longest: 2 * time.Second, LongestAfter: 10 * time.Second}, false},
		{cut, Observed{Outcome: Recovers, After: 10 * time.Second, Outage: 9 * time.Second, Longest: 9 * time.Second, LongestAfter: 10 * time.Second}, true},
		{cut, Observed{Outcome: Recovers, After: 100 * time.Millisecond, Outage: 50 * time.Millisecond, Longest: 9 * time.Second, LongestAfter: 11 * time.Second}, true},
		{cut, Observed{Outcome: Recovers, After: 13 * time.Second, Outage: 9 * time.Second, Longest: 9 * time.Second, LongestAfter: 13 * time.Second}, false},
		{cut, Observed{Outcome: Recovers, After: 100 * time.Millisecond, Outage: 50 * time.Millisecond, Longest: 20 * time.Second, LongestAfter: 30 * time.Second, LongestOpen: true}, false},
	}
	for i, c := range cases {
		if got := c.x.Matches(c.o); got != c.want {
			t.Errorf("case %d: %v.Matches(%v) = %v", i, c.x, c.o, got)
		}
	}
}

func TestLookupFirstMatchWins(t *testing.T) {
	table := []Rule{
		{CNI: "calico", ProxyMode: "none", Expect: []Expect{{Flow: "calico"}}},
		{MinMinor: 32, Expect: []Expect{{Flow: "new"}}},
		{Expect: []Expect{{Flow: "old"}}},
	}
	for _, c := range []struct {
		env  Environment
		want string
	}{
		{Environment{CNI: "calico", KubeProxyMode: "none", Minor: 34}, "calico"},
		{Environment{CNI: "calico", KubeProxyMode: "iptables", Minor: 34}, "new"},
		{Environment{Minor: 23}, "old"},
	} {
		if got := Lookup(table, c.env); len(got) != 1 || got[0].Flow != c.want {
			t.Errorf("%+v: got %v, want %s", c.env, got, c.want)
		}
	}
	if x, ok := For([]Expect{{Flow: "*/pinned"}}, "trigger", "worker/pinned"); !ok || x.Flow != "*/pinned" {
		t.Error("pattern */pinned should match worker/pinned")
	}
}

func TestCompactResponders(t *testing.T) {
	a, b := probe.Identity{Pod: "a"}, probe.Identity{Pod: "b"}
	var spans []probe.ResponderSpan
	for i := 0; i < 200; i++ {
		who := a
		if i%2 == 1 {
			who = b
		}
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		spans = append(spans, probe.ResponderSpan{Responder: who, First: at, Last: at, Answers: 1})
	}
	got := compactResponders(spans)
	if len(got) != 2 || got[0].Answers != 100 || got[1].Answers != 100 || !got[1].Last.Equal(t0.Add(1990*time.Millisecond)) {
		t.Fatalf("got %+v", got)
	}
	if len(compactResponders(spans[:3])) != 3 {
		t.Fatal("few spans must be kept as they are")
	}
}
