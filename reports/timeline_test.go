package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/netchaos/netchaos/probe"
)

// probes is a flow's samples every interval (give or take jitter) from
// t0+from to t0+to; lost(rel) says which are lost; pauses are spans with
// no probe sent at all.
func probes(from, to, interval, jitter time.Duration, seed int64, lost func(rel time.Duration) bool, pauses ...[2]time.Duration) []probe.Sample {
	rng := rand.New(rand.NewSource(seed))
	var out []probe.Sample
	for i, rel := 0, from; rel < to; i, rel = i+1, rel+interval {
		paused := false
		for _, p := range pauses {
			paused = paused || (rel >= p[0] && rel < p[1])
		}
		if paused {
			continue
		}
		sent := rel
		if jitter > 0 {
			sent += time.Duration(rng.Int63n(int64(2*jitter))) - jitter
		}
		s := probe.Sample{Flow: "f", Mode: probe.UDPPinned, Seq: uint64(i), Sent: t0.Add(sent), Result: probe.OK, Responder: probe.Identity{Pod: "p"}}
		if lost(rel) {
			s.Result, s.Responder = probe.Timeout, probe.Identity{}
		}
		out = append(out, s)
	}
	return out
}

func between(spans ...[2]time.Duration) func(time.Duration) bool {
	return func(rel time.Duration) bool {
		for _, s := range spans {
			if rel >= s[0] && (s[1] < 0 || rel < s[1]) {
				return true
			}
		}
		return false
	}
}

func ms2d(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// hundredBlips is a control flow of a real run: down for 3 s at the
// trigger, and a probe lost now and then, a hundred times.
func hundredBlips() func(time.Duration) bool {
	rng := rand.New(rand.NewSource(1))
	blips := map[time.Duration]bool{}
	for len(blips) < 100 {
		blips[time.Duration(rng.Intn(9000))*10*time.Millisecond-15*time.Second] = true
	}
	return func(rel time.Duration) bool { return (rel >= 0 && rel < 3*time.Second) || blips[rel] }
}

// checkCounts fails unless every sample is in exactly one bucket.
func checkCounts(t *testing.T, tl Timeline, s []probe.Sample) {
	t.Helper()
	var a, l, wa, wl int
	for _, b := range tl.Buckets {
		if b.Width < 1 {
			t.Fatalf("bucket of width %d", b.Width)
		}
		a, l = a+b.Answered, l+b.Lost
	}
	for _, x := range s {
		if x.Answered() {
			wa++
		} else {
			wl++
		}
	}
	if a != wa || l != wl {
		t.Fatalf("buckets hold %d answered, %d lost; want %d, %d", a, l, wa, wl)
	}
	if len(tl.Buckets) > MaxBuckets {
		t.Fatalf("%d buckets, want at most %d", len(tl.Buckets), MaxBuckets)
	}
}

// resolved reports whether the timeline resolves time at to within two
// fine buckets: the bucket holding it starts at most two fine buckets
// before it (an empty fine bucket, jitter between two probes, may come
// before a bucket of both states).
func resolved(tl Timeline, at time.Time) bool {
	cell := int(at.Sub(tl.Start) / tl.Bucket)
	i := 0
	for _, b := range tl.Buckets {
		if cell >= i && cell < i+b.Width {
			return cell-i <= 2
		}
		i += b.Width
	}
	return false
}

// TestBucketizeKeepsEveryOutageEdge: for flows with the outages real runs
// have (at the trigger, a single lost probe, 120 ms, one still open at the
// end, one before the trigger and a pause in probing, a control flow's
// hundred lost probes), every outage edge probe.Analyze finds is resolved
// to the fine bucket, while the timeline stays a few dozen buckets (a few
// hundred for the control flow).
func TestBucketizeKeepsEveryOutageEdge(t *testing.T) {
	markers := []probe.Marker{{Name: "trigger", At: t0}, {Name: "conntrack -D", At: t0.Add(45 * time.Second)}}
	for _, tc := range []struct {
		name     string
		from, to time.Duration
		interval time.Duration
		lost     func(time.Duration) bool
		pauses   [][2]time.Duration
		most     int // buckets at most
	}{
		{"one outage at the trigger", -10 * time.Second, 60 * time.Second, 10 * time.Millisecond, between([2]time.Duration{0, ms2d(3091)}), nil, 40},
		{"a single lost probe", -10 * time.Second, 60 * time.Second, 10 * time.Millisecond, between([2]time.Duration{ms2d(1200), ms2d(1210)}), nil, 40},
		{"120 ms and 350 ms", -10 * time.Second, 60 * time.Second, 10 * time.Millisecond, between([2]time.Duration{ms2d(1200), ms2d(1320)}, [2]time.Duration{ms2d(31100), ms2d(31450)}), nil, 60},
		{"never recovered", -10 * time.Second, 60 * time.Second, 10 * time.Millisecond, between([2]time.Duration{ms2d(500), -1}), nil, 40},
		{"outage before the trigger and after a pause", -15 * time.Second, 90 * time.Second, 20 * time.Millisecond,
			between([2]time.Duration{-ms2d(13009), -ms2d(12759)}, [2]time.Duration{ms2d(47000), ms2d(48059)}), [][2]time.Duration{{ms2d(20000), ms2d(22000)}}, 80},
		{"a control flow: 3 s at the trigger and a hundred single lost probes", -15 * time.Second, 75 * time.Second, 10 * time.Millisecond, hundredBlips(), nil, MaxBuckets},
		{"ten minutes, six outages", 0, 10 * time.Minute, 10 * time.Millisecond, between([2]time.Duration{ms2d(1000), ms2d(1500)},
			[2]time.Duration{ms2d(60000), ms2d(60010)}, [2]time.Duration{ms2d(120000), ms2d(180000)}, [2]time.Duration{ms2d(300000), ms2d(300300)},
			[2]time.Duration{ms2d(400000), ms2d(400020)}, [2]time.Duration{ms2d(599000), -1}), nil, 160},
	} {
		for _, jitter := range []time.Duration{0, 3 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s, jitter %s", tc.name, jitter), func(t *testing.T) {
				s := probes(tc.from, tc.to, tc.interval, jitter, 1, tc.lost, tc.pauses...)
				st := probe.Analyze(s, markers, t0.Add(tc.to))
				tl := Bucketize(s, st.WindowStart, st.WindowEnd, tc.interval, markers)
				checkCounts(t, tl, s)
				if len(tl.Buckets) > tc.most {
					t.Errorf("%d buckets, want at most %d", len(tl.Buckets), tc.most)
				}
				if len(st.Outages) == 0 {
					t.Fatal("the flow has no outage")
				}
				for _, o := range st.Outages {
					if !resolved(tl, o.Start) {
						t.Errorf("outage start %s not resolved to the fine bucket", Rel(o.Start, t0))
					}
					if !o.Open && !resolved(tl, o.End) {
						t.Errorf("outage end %s not resolved to the fine bucket", Rel(o.End, t0))
					}
				}
				for _, p := range tc.pauses {
					if !resolved(tl, t0.Add(p[0])) {
						t.Errorf("pause from %s not resolved to the fine bucket", Dur(p[0]))
					}
				}
				// Round trip through the JSON form.
				b, err := json.Marshal(tl)
				if err != nil {
					t.Fatal(err)
				}
				var back Timeline
				if err := json.Unmarshal(b, &back); err != nil {
					t.Fatal(err)
				}
				if !back.Start.Equal(tl.Start) || back.Bucket != tl.Bucket || fmt.Sprint(back.Buckets) != fmt.Sprint(tl.Buckets) {
					t.Errorf("JSON round trip changed the timeline")
				}
			})
		}
	}
}

// TestBucketizeBound: a flow that flaps all along (lost at random, every
// other probe, a lost probe every 300 ms) still has at most MaxBuckets
// buckets and exact counts, and near the markers, where refining starts,
// every outage edge is still resolved to the fine bucket.
func TestBucketizeBound(t *testing.T) {
	markers := []probe.Marker{{Name: "trigger", At: t0}, {Name: "mitigation", At: t0.Add(30 * time.Second)}}
	rng := rand.New(rand.NewSource(7))
	random := map[time.Duration]bool{}
	for _, tc := range []struct {
		name string
		span time.Duration
		lost func(time.Duration) bool
		// nearMarkers: outage edges within markerPad of a marker must be
		// resolved (the budget allows it)
		nearMarkers bool
	}{
		{"half lost at random, 10 minutes", 10 * time.Minute, func(rel time.Duration) bool {
			if _, ok := random[rel]; !ok {
				random[rel] = rng.Intn(2) == 0
			}
			return random[rel]
		}, false},
		{"every other probe, 1 hour", time.Hour, func(rel time.Duration) bool { return rel/(10*time.Millisecond)%2 == 0 }, false},
		{"a lost probe every 300 ms, 90 s", 90 * time.Second, func(rel time.Duration) bool { return rel%(300*time.Millisecond) < 10*time.Millisecond }, true},
		{"a lost probe every 700 ms, 90 s", 90 * time.Second, func(rel time.Duration) bool { return rel%(700*time.Millisecond) < 10*time.Millisecond }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := probes(-5*time.Second, tc.span, 10*time.Millisecond, 0, 1, tc.lost)
			st := probe.Analyze(s, markers, t0.Add(tc.span))
			tl := Bucketize(s, st.WindowStart, st.WindowEnd, 10*time.Millisecond, markers)
			checkCounts(t, tl, s)
			b, _ := json.Marshal(tl)
			// Every bucket is at most "width:answered:lost " with numbers
			// below 10^6: 21 bytes.
			if len(b) > 100+21*MaxBuckets {
				t.Errorf("timeline is %d bytes of JSON", len(b))
			}
			if !tc.nearMarkers {
				return
			}
			for _, o := range st.Outages {
				for _, m := range markers {
					d := o.Start.Sub(m.At)
					if d > -markerPad/2 && d < markerPad/2 && (!resolved(tl, o.Start) || !resolved(tl, o.End)) {
						t.Errorf("outage at %s, near marker %s, not resolved to the fine bucket", Rel(o.Start, t0), m.Name)
					}
				}
			}
		})
	}
	if tl := Bucketize(nil, t0, t0, 0, nil); len(tl.Buckets) != 0 {
		t.Error("no samples must give no buckets")
	}
}

// TestReportSizeFullSuite: a full suite on 3 nodes — 13 experiments of 12
// flows, 90 s at 100 probes/s, each flow with the outages real runs have
// (the controls' blips included) — keeps its timelines within a tenth of
// the 500 kB a report.json should stay under (they were 40 kB per flow,
// indented, when every 50 ms had its bucket). The rest of the report is
// logged: the flows' outage lists, not the timelines, are what is left
// over that budget.
func TestReportSizeFullSuite(t *testing.T) {
	r := &Report{SchemaVersion: SchemaVersion, Run: RunMeta{ID: "size", Started: t0, Finished: t0.Add(time.Hour)}}
	markers := []probe.Marker{{Name: "trigger", At: t0}, {Name: "service re-created", At: t0.Add(12 * time.Second), Event: true}, {Name: "conntrack -D", At: t0.Add(47 * time.Second)}}
	timelines := 0
	for x := range 13 {
		e := Experiment{Name: fmt.Sprintf("exp-%d", x), Budget: 10 * time.Second, Interval: 10 * time.Millisecond, Started: t0.Add(-15 * time.Second), Finished: t0.Add(75 * time.Second), Markers: MarkersOf(markers)}
		for n, node := range []string{"external", "worker", "worker2"} {
			for k, kind := range []string{"fresh", "pinned", "oneway", "service"} {
				seed := int64(100*x + 10*n + k)
				rng := rand.New(rand.NewSource(seed))
				var lost func(time.Duration) bool
				switch kind {
				case "fresh", "service": // controls: the trigger's cost, then a blip now and then
					blips := map[time.Duration]bool{}
					for range 20 {
						blips[time.Duration(rng.Intn(9000))*10*time.Millisecond-15*time.Second] = true
					}
					lost = func(rel time.Duration) bool { return (rel >= 0 && rel < ms2d(670)) || blips[rel] }
				case "pinned":
					lost = between([2]time.Duration{0, ms2d(46139)})
				default:
					lost = between([2]time.Duration{ms2d(1563), ms2d(47733)}, [2]time.Duration{ms2d(60000), ms2d(60250)})
				}
				s := probes(-15*time.Second, 75*time.Second, 10*time.Millisecond, 2*time.Millisecond, seed, lost)
				st := probe.Analyze(s, markers, t0.Add(75*time.Second))
				f := Flow{Name: node + "/" + kind, Control: kind == "fresh" || kind == "service", Stats: StatsOf(st), Timeline: Bucketize(s, st.WindowStart, st.WindowEnd, 10*time.Millisecond, markers)}
				b, _ := json.MarshalIndent(f.Timeline, "      ", "  ")
				timelines += len(b)
				e.Flows = append(e.Flows, f)
			}
		}
		Judge(&e)
		r.Experiments = append(r.Experiments, e)
	}
	var b bytes.Buffer
	if err := JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if out := os.Getenv("NETCHAOS_SIZE_OUT"); out != "" {
		_ = os.WriteFile(out, b.Bytes(), 0o644)
	}
	t.Logf("report.json: %d bytes for 13 experiments of 12 flows; timelines %d bytes (%.0f per flow)", b.Len(), timelines, float64(timelines)/156)
	if timelines > 50_000 {
		t.Errorf("timelines take %d bytes for 156 flows, want at most 50 kB", timelines)
	}
	if b.Len() > 500_000 {
		t.Logf("over 500 kB: the outage lists (Flow.Stats.Outages) are not bounded by Bucketize")
	}
	if strings.Contains(b.String(), `"answered": [`) {
		t.Error("the timeline is written as an indented array")
	}
	back, err := Decode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(back.Experiments[3].Flows[5].Timeline.Buckets), fmt.Sprint(r.Experiments[3].Flows[5].Timeline.Buckets); got != want {
		t.Error("the timeline does not survive Decode")
	}
}

// TestTimelineReadsOldArrays: reports written before the bucket string
// (answered and lost arrays, one bucket each) still load.
func TestTimelineReadsOldArrays(t *testing.T) {
	var tl Timeline
	if err := json.Unmarshal([]byte(`{"start":"2026-11-22T12:00:00Z","bucket_ns":50000000,"answered":[5,5,0,0,3,5],"lost":[0,0,5,5,2,0]}`), &tl); err != nil {
		t.Fatal(err)
	}
	want := []Bucket{{2, 10, 0}, {2, 0, 10}, {1, 3, 2}, {1, 5, 0}}
	if fmt.Sprint(tl.Buckets) != fmt.Sprint(want) || tl.Bucket != 50*time.Millisecond || !tl.End().Equal(t0.Add(300*time.Millisecond)) {
		t.Errorf("got %+v, want buckets %v", tl, want)
	}
	for _, bad := range []string{`{"buckets":"1:2"}`, `{"buckets":"0:1:1"}`, `{"buckets":"1:x:1"}`, `{"answered":[1],"lost":[]}`} {
		if err := json.Unmarshal([]byte(bad), &tl); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}
