package reports

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/netchaos/netchaos/probe"
)

// Timeline is a flow's answered/lost counts in buckets, for drawing. The
// buckets are fine (one probe interval) where the flow changed state — an
// outage's edges, a gap in probing — and near markers, and coarse where
// nothing happened, so a timeline stays a few hundred bytes however long
// the flow ran (at most MaxBuckets buckets).
type Timeline struct {
	Start time.Time
	// Bucket is the finest bucket's width: every bucket is a whole number
	// of them.
	Bucket  time.Duration
	Buckets []Bucket
}

// Bucket is a run of Width fine buckets: how many probes sent in it were
// answered and how many lost.
type Bucket struct {
	Width    int
	Answered int
	Lost     int
}

// MaxBuckets bounds a timeline's buckets.
const MaxBuckets = 256

// IsZero reports whether the timeline is empty (omitted from the JSON).
func (t Timeline) IsZero() bool {
	return t.Start.IsZero() && t.Bucket == 0 && len(t.Buckets) == 0
}

// End is the end of the last bucket.
func (t Timeline) End() time.Time {
	n := 0
	for _, b := range t.Buckets {
		n += b.Width
	}
	return t.Start.Add(time.Duration(n) * t.Bucket)
}

// timelineJSON is the timeline's JSON form: the buckets in one string,
// "width:answered:lost" per bucket separated by spaces, so that an indented
// report keeps a timeline on one line. Answered and Lost are the arrays of
// netchaos before 0.2 (one bucket each, all of width 1); they are read,
// never written: they are bucketed again as Bucketize would, with their
// buckets as the fine ones.
type timelineJSON struct {
	Start    time.Time     `json:"start"`
	Bucket   time.Duration `json:"bucket_ns"`
	Buckets  string        `json:"buckets,omitempty"`
	Answered []int         `json:"answered,omitempty"`
	Lost     []int         `json:"lost,omitempty"`
}

// MarshalJSON writes the buckets as one "width:answered:lost …" string.
func (t Timeline) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	for i, k := range t.Buckets {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(k.Width))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(k.Answered))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(k.Lost))
	}
	return json.Marshal(timelineJSON{Start: t.Start, Bucket: t.Bucket, Buckets: b.String()})
}

// UnmarshalJSON reads the bucket string, or the answered and lost arrays of
// older reports (merged and coarsened as Bucketize does).
func (t *Timeline) UnmarshalJSON(data []byte) error {
	var j timelineJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*t = Timeline{Start: j.Start, Bucket: j.Bucket}
	if j.Buckets != "" {
		for _, tok := range strings.Fields(j.Buckets) {
			var k Bucket
			parts := strings.Split(tok, ":")
			if len(parts) != 3 {
				return fmt.Errorf("timeline bucket %q: want width:answered:lost", tok)
			}
			for i, p := range []*int{&k.Width, &k.Answered, &k.Lost} {
				n, err := strconv.Atoi(parts[i])
				if err != nil || n < 0 {
					return fmt.Errorf("timeline bucket %q: want width:answered:lost", tok)
				}
				*p = n
			}
			if k.Width == 0 {
				return fmt.Errorf("timeline bucket %q: zero width", tok)
			}
			t.Buckets = append(t.Buckets, k)
		}
		return nil
	}
	if len(j.Answered) != len(j.Lost) {
		return fmt.Errorf("timeline: %d answered and %d lost buckets", len(j.Answered), len(j.Lost))
	}
	t.Buckets = refine(j.Answered, j.Lost, nil, 0, MaxBuckets)
	return nil
}

// Fine-cell classes: what a cell (or a run of them) holds.
const (
	cellAnswered = iota // answers only
	cellLost            // losses only
	cellMixed           // both
	cellGap             // no probe sent for gapCells cells or more
	nClasses
	cellSkip = -1 // an empty cell within a shorter pause: not a state
)

const (
	// minFine is the finest bucket for fast probes.
	minFine = 10 * time.Millisecond
	// gapCells is the shortest run of empty fine buckets drawn as "no
	// samples": shorter pauses are scheduling jitter.
	gapCells = 4
	// coarseBuckets is about how many buckets a timeline starts from
	// before it is refined where the flow changed state.
	coarseBuckets = 64
	// markerPad is how far either side of a marker buckets are refined
	// first.
	markerPad = 500 * time.Millisecond
	// maxCells bounds the fine grid Bucketize counts on.
	maxCells = 1 << 20
)

// Bucketize builds the timeline of one flow's samples from start to end.
//
// It counts the samples on a fine grid (the probe interval, at least
// 10 ms), starts from about 64 coarse buckets and splits in halves, widest
// first and those within half a second of a marker before all others,
// every bucket that holds more than one state (answered, lost, both in one
// fine bucket, no probe sent), then merges neighbours that hold the same
// state; it splits as far as the merged buckets stay at most MaxBuckets.
// So a flow with up to about a hundred outages keeps every outage edge to
// the fine bucket, and a flow that flaps all along still has at most
// MaxBuckets buckets (the ones left holding both states are drawn as partly
// lost), the finest near the markers. Counts are exact: every sample is in
// exactly one bucket. Pure.
func Bucketize(samples []probe.Sample, start, end time.Time, interval time.Duration, markers []probe.Marker) Timeline {
	fine := max(interval, minFine)
	span := end.Sub(start)
	if span < 0 || len(samples) == 0 {
		return Timeline{Start: start, Bucket: fine}
	}
	for span/fine >= maxCells {
		fine *= 2
	}
	n := int(span/fine) + 1
	ans, lost := make([]int, n), make([]int, n)
	for _, s := range samples {
		i := int(s.Sent.Sub(start) / fine)
		if s.Sent.Before(start) || i >= n {
			continue
		}
		if s.Answered() {
			ans[i]++
		} else {
			lost[i]++
		}
	}
	var mk []int
	for _, m := range markers {
		if !m.At.Before(start.Add(-markerPad)) && !m.At.After(end.Add(markerPad)) {
			mk = append(mk, int(m.At.Sub(start)/fine))
		}
	}
	pad := int(markerPad / fine)
	return Timeline{Start: start, Bucket: fine, Buckets: refine(ans, lost, mk, pad, MaxBuckets)}
}

// refine is Bucketize on counts per fine cell: at most limit buckets of
// whole cells, split where their cells differ in class (cells within pad
// of a marker cell first). It refines with a growing budget of splits and
// keeps the finest result that merges into at most limit buckets: the
// exact runs of one class when there are no more than limit of them.
// Pure.
func refine(ans, lost []int, markers []int, pad, limit int) []Bucket {
	g := newGrid(ans, lost, markers, pad)
	out, done := g.refine(limit)
	// Double the splits while the result fits, then search between the
	// last that fit and the first that did not.
	good, bad := limit, 0
	for leaves := 2 * limit; !done && leaves <= 64*limit; leaves *= 2 {
		finer, exhausted := g.refine(leaves)
		if len(finer) > limit {
			bad = leaves
			break
		}
		out, done, good = finer, exhausted, leaves
	}
	for bad > 0 && bad-good > limit/8 {
		mid := (good + bad) / 2
		if finer, exhausted := g.refine(mid); len(finer) > limit {
			bad = mid
		} else {
			out, good = finer, mid
			if exhausted {
				break
			}
		}
	}
	return out
}

// grid is a flow's fine cells, their classes counted for any range.
type grid struct {
	ans, lost []int
	prefix    [nClasses][]int // prefix[c][i]: cells of class c before cell i
	markers   []int
	pad       int
}

func newGrid(ans, lost []int, markers []int, pad int) *grid {
	n := len(ans)
	g := &grid{ans: ans, lost: lost, markers: markers, pad: pad}
	for c := range g.prefix {
		g.prefix[c] = make([]int, n+1)
	}
	for i, c := range classes(ans, lost) {
		for k := range g.prefix {
			g.prefix[k][i+1] = g.prefix[k][i]
		}
		if c >= 0 {
			g.prefix[c][i+1]++
		}
	}
	return g
}

// classOf is the one class of cells [i,j): cellSkip for none, nClasses
// for several.
func (g *grid) classOf(i, j int) int {
	got := cellSkip
	for c := range g.prefix {
		if g.prefix[c][j] > g.prefix[c][i] {
			if got != cellSkip {
				return nClasses
			}
			got = c
		}
	}
	return got
}

func (g *grid) near(i, j int) bool {
	for _, m := range g.markers {
		if i <= m+g.pad && j > m-g.pad {
			return true
		}
	}
	return false
}

// cells is cells [i,j) of the grid.
type cells struct{ i, j int }

// splits orders the leaves to split: near a marker first, then the widest,
// then the earliest.
type splits struct {
	g  *grid
	ls []cells
}

func (h splits) Len() int { return len(h.ls) }
func (h splits) Less(a, b int) bool {
	x, y := h.ls[a], h.ls[b]
	if nx, ny := h.g.near(x.i, x.j), h.g.near(y.i, y.j); nx != ny {
		return nx
	}
	if wx, wy := x.j-x.i, y.j-y.i; wx != wy {
		return wx > wy
	}
	return x.i < y.i
}
func (h splits) Swap(a, b int) { h.ls[a], h.ls[b] = h.ls[b], h.ls[a] }
func (h *splits) Push(x any)   { h.ls = append(h.ls, x.(cells)) }
func (h *splits) Pop() any {
	x := h.ls[len(h.ls)-1]
	h.ls = h.ls[:len(h.ls)-1]
	return x
}

// refine starts from about coarseBuckets aligned leaves and splits in
// halves (on a power-of-two grid) the best leaf holding more than one
// class until there are maxLeaves leaves or none to split (exhausted),
// then merges neighbours of one class.
func (g *grid) refine(maxLeaves int) (out []Bucket, exhausted bool) {
	n := len(g.ans)
	coarse := 1
	for (n+coarse-1)/coarse > coarseBuckets {
		coarse *= 2
	}
	var leaves []cells
	h := &splits{g: g}
	add := func(c cells) {
		if c.j-c.i > 1 && g.classOf(c.i, c.j) == nClasses {
			heap.Push(h, c)
		} else {
			leaves = append(leaves, c)
		}
	}
	for i := 0; i < n; i += coarse {
		add(cells{i, min(i+coarse, n)})
	}
	for h.Len() > 0 && len(leaves)+h.Len() < maxLeaves {
		c := heap.Pop(h).(cells)
		half := 1
		for 2*half < c.j-c.i {
			half *= 2
		}
		add(cells{c.i, c.i + half})
		add(cells{c.i + half, c.j})
	}
	exhausted = h.Len() == 0
	leaves = append(leaves, h.ls...)
	sort.Slice(leaves, func(a, b int) bool { return leaves[a].i < leaves[b].i })
	// Merge neighbours of one class; a leaf of skipped cells only joins
	// its left neighbour (or its right one at the start).
	var outClass []int
	for _, l := range leaves {
		c := g.classOf(l.i, l.j)
		a, lo := 0, 0
		for k := l.i; k < l.j; k++ {
			a, lo = a+g.ans[k], lo+g.lost[k]
		}
		k := len(out) - 1
		switch {
		case k >= 0 && (c == cellSkip || (c == outClass[k] && c != nClasses)):
		case k >= 0 && outClass[k] == cellSkip && c != nClasses:
			outClass[k] = c
		default:
			out = append(out, Bucket{Width: l.j - l.i, Answered: a, Lost: lo})
			outClass = append(outClass, c)
			continue
		}
		out[k].Width += l.j - l.i
		out[k].Answered += a
		out[k].Lost += lo
	}
	return out, exhausted
}

// classes is each fine cell's class; empty cells in a run shorter than
// gapCells are skipped (probes are not sent exactly on the grid).
func classes(ans, lost []int) []int {
	out := make([]int, len(ans))
	for i := range ans {
		switch a, l := ans[i], lost[i]; {
		case a > 0 && l > 0:
			out[i] = cellMixed
		case a > 0:
			out[i] = cellAnswered
		case l > 0:
			out[i] = cellLost
		default:
			out[i] = cellGap
		}
	}
	for i := 0; i < len(out); {
		if out[i] != cellGap {
			i++
			continue
		}
		j := i
		for j < len(out) && out[j] == cellGap {
			j++
		}
		if j-i < gapCells {
			for k := i; k < j; k++ {
				out[k] = cellSkip
			}
		}
		i = j
	}
	return out
}
