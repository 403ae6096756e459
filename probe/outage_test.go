package probe

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// flow builds samples at 10 ms spacing from a pattern: '.' answered by a,
// 'b' answered by b, 'x' timeout, 'r' refused.
func flow(pattern string) []Sample {
	var s []Sample
	for i, c := range pattern {
		x := Sample{Flow: "f", Mode: UDPPinned, Seq: uint64(i), Sent: t0.Add(time.Duration(i) * 10 * time.Millisecond)}
		switch c {
		case '.':
			x.Result, x.Responder = OK, Identity{Pod: "a", IP: "10.244.1.7"}
		case 'b':
			x.Result, x.Responder = OK, Identity{Pod: "b", IP: "172.18.0.3"}
		case 'x':
			x.Result = Timeout
		case 'r':
			x.Result = Refused
		}
		s = append(s, x)
	}
	return s
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name       string
		pattern    string
		markerAt   time.Duration // relative to t0; <0 = no marker
		windowEnd  time.Duration // relative to t0; 0 = last sample
		wantLost   int
		wantOut    []Outage // Start/End relative to t0 via ms
		longest    time.Duration
		recovered  bool
		recovery   *Recovery
		responders int
	}{
		{name: "clean", pattern: ".....", markerAt: -1, recovered: true, responders: 1},
		{name: "one outage", pattern: "..xxx..", markerAt: -1, wantLost: 3,
			wantOut: []Outage{{Start: t0.Add(ms(20)), End: t0.Add(ms(50)), Lost: 3}}, longest: ms(30), recovered: true, responders: 1},
		{name: "two outages, longest second", pattern: ".x..rrr.", markerAt: -1, wantLost: 4,
			wantOut: []Outage{{Start: t0.Add(ms(10)), End: t0.Add(ms(20)), Lost: 1}, {Start: t0.Add(ms(40)), End: t0.Add(ms(70)), Lost: 3}},
			longest: ms(30), recovered: true, responders: 1},
		{name: "never recovers: open to window end", pattern: "..xxxx", markerAt: 15, windowEnd: 1000, wantLost: 4,
			wantOut:  []Outage{{Start: t0.Add(ms(20)), End: t0.Add(ms(1000)), Open: true, Lost: 4}},
			longest:  ms(980),
			recovery: &Recovery{Marker: "trigger", After: ms(985), Outage: ms(980), Never: true}, responders: 1},
		{name: "recovery measured from marker", pattern: "...xxxxx..", markerAt: 25, wantLost: 5,
			wantOut: []Outage{{Start: t0.Add(ms(30)), End: t0.Add(ms(80)), Lost: 5}},
			longest: ms(50), recovered: true,
			recovery: &Recovery{Marker: "trigger", After: ms(55), Outage: ms(50)}, responders: 1},
		{name: "outage before marker is not the marker's", pattern: ".x......", markerAt: 35, recovered: true, wantLost: 1,
			wantOut:  []Outage{{Start: t0.Add(ms(10)), End: t0.Add(ms(20)), Lost: 1}},
			longest:  ms(10),
			recovery: &Recovery{Marker: "trigger"}, responders: 1},
		{name: "outage running at marker counts", pattern: ".xxxx.", markerAt: 25, wantLost: 4, recovered: true,
			wantOut:  []Outage{{Start: t0.Add(ms(10)), End: t0.Add(ms(50)), Lost: 4}},
			longest:  ms(40),
			recovery: &Recovery{Marker: "trigger", After: ms(25), Outage: ms(40)}, responders: 1},
		{name: "responder change without loss", pattern: "...bbb", markerAt: -1, recovered: true, responders: 2},
		{name: "all lost", pattern: "xxx", markerAt: -1, wantLost: 3,
			wantOut: []Outage{{Start: t0, End: t0.Add(ms(20)), Open: true, Lost: 3}}, longest: ms(20), responders: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var markers []Marker
			if tc.markerAt >= 0 {
				markers = []Marker{{Name: "trigger", At: t0.Add(tc.markerAt * time.Millisecond)}}
			}
			var we time.Time
			if tc.windowEnd > 0 {
				we = t0.Add(tc.windowEnd * time.Millisecond)
			}
			samples := flow(tc.pattern)
			// Order must not matter: feed them reversed.
			rev := make([]Sample, len(samples))
			for i := range samples {
				rev[len(samples)-1-i] = samples[i]
			}
			st := Analyze(rev, markers, we)
			if st.Sent != len(tc.pattern) || st.Lost != tc.wantLost || st.Answered != st.Sent-st.Lost {
				t.Errorf("sent/answered/lost = %d/%d/%d, want %d/_/%d", st.Sent, st.Answered, st.Lost, len(tc.pattern), tc.wantLost)
			}
			if len(st.Outages) != len(tc.wantOut) {
				t.Fatalf("outages = %+v, want %+v", st.Outages, tc.wantOut)
			}
			for i, o := range st.Outages {
				w := tc.wantOut[i]
				if !o.Start.Equal(w.Start) || !o.End.Equal(w.End) || o.Open != w.Open || o.Lost != w.Lost {
					t.Errorf("outage %d = %v..%v open=%v lost=%d, want %v..%v open=%v lost=%d", i,
						o.Start.Sub(t0), o.End.Sub(t0), o.Open, o.Lost, w.Start.Sub(t0), w.End.Sub(t0), w.Open, w.Lost)
				}
			}
			if st.LongestGap != tc.longest {
				t.Errorf("longest gap = %v, want %v", st.LongestGap, tc.longest)
			}
			if st.Recovered != tc.recovered {
				t.Errorf("recovered = %v, want %v", st.Recovered, tc.recovered)
			}
			if tc.recovery != nil {
				if len(st.Recoveries) != 1 || st.Recoveries[0] != *tc.recovery {
					t.Errorf("recoveries = %+v, want %+v", st.Recoveries, *tc.recovery)
				}
			}
			if len(st.Responders) != tc.responders {
				t.Errorf("responder spans = %+v, want %d", st.Responders, tc.responders)
			}
		})
	}
}

func TestAnalyzeResponderSpans(t *testing.T) {
	st := Analyze(flow("..xx.bb"), nil, time.Time{})
	if len(st.Responders) != 2 {
		t.Fatalf("spans = %+v", st.Responders)
	}
	a, b := st.Responders[0], st.Responders[1]
	if a.Responder.Pod != "a" || a.Answers != 3 || !a.Last.Equal(t0.Add(ms(40))) {
		t.Errorf("first span = %+v", a)
	}
	if b.Responder.Pod != "b" || b.Answers != 2 || !b.First.Equal(t0.Add(ms(50))) {
		t.Errorf("second span = %+v", b)
	}
}

func TestByFlow(t *testing.T) {
	s := []Sample{{Flow: "b"}, {Flow: "a"}, {Flow: "b"}}
	names, flows := ByFlow(s)
	if len(names) != 2 || names[0] != "b" || len(flows["b"]) != 2 {
		t.Fatalf("names=%v flows=%v", names, flows)
	}
}
