package reports

import (
	"time"

	"github.com/netchaos/netchaos/experiments/probe"
)

// Timeline is a flow's answered/lost counts in fixed-width buckets: small
// enough to keep in the report (at most MaxBuckets per flow) and to draw.
type Timeline struct {
	Start    time.Time     `json:"start"`
	Bucket   time.Duration `json:"bucket_ns"`
	Answered []int         `json:"answered"`
	Lost     []int         `json:"lost"`
}

// MaxBuckets bounds a timeline: a 10-minute run at 100 probes/s is 60,000
// samples: 1200 buckets of 500 ms, and never more than MaxBuckets.
const MaxBuckets = 2000

// Bucketize builds the timeline of samples from start to end, with buckets
// of at least min width (the probe interval, so no bucket is empty by
// construction) and at most MaxBuckets of them. Pure.
func Bucketize(samples []probe.Sample, start, end time.Time, min time.Duration) Timeline {
	span := end.Sub(start)
	if span <= 0 || len(samples) == 0 {
		return Timeline{Start: start, Bucket: max(min, time.Millisecond)}
	}
	w := max(min, span/MaxBuckets+1)
	// Round the width to a readable step.
	for _, step := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
		200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second} {
		if w <= step {
			w = step
			break
		}
	}
	n := int(span/w) + 1
	t := Timeline{Start: start, Bucket: w, Answered: make([]int, n), Lost: make([]int, n)}
	for _, s := range samples {
		i := int(s.Sent.Sub(start) / w)
		if i < 0 || i >= n {
			continue
		}
		if s.Answered() {
			t.Answered[i]++
		} else {
			t.Lost[i]++
		}
	}
	return t
}
