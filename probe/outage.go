package probe

import (
	"net"
	"sort"
	"time"
)

// Marker is a named moment of a run: a trigger injected, a mitigation
// applied. An Event marker (a Service deleted, re-created) is an annotation
// on the timeline: it does not start a window of its own.
type Marker struct {
	Name  string    `json:"name"`
	At    time.Time `json:"at"`
	Event bool      `json:"event,omitempty"`
}

// Outage is a run of consecutive unanswered probes. Its edges are send times:
// Start is the first lost probe, End the first answered one after it. An
// outage still open when the window closed has Open set and End equal to the
// window's end: it lasted at least that long, and the report must say so.
type Outage struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Open  bool      `json:"open,omitempty"`
	Lost  int       `json:"lost"`
	// Results counts the lost probes by outcome (timeout, refused, error).
	Results map[Result]int `json:"results,omitempty"`
}

// Duration is End-Start: for an open outage, a lower bound.
func (o Outage) Duration() time.Duration { return o.End.Sub(o.Start) }

// ResponderSpan is a stretch of consecutive answers from one responder that
// saw the client as coming from one source IP.
type ResponderSpan struct {
	Responder Identity `json:"responder"`
	// SeenSource is the client IP as the responder saw it (no port).
	SeenSource string    `json:"seen_src,omitempty"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	Answers    int       `json:"answers"`
}

// Recovery is how long a flow took to be answered again after a marker.
type Recovery struct {
	Marker string `json:"marker"`
	// After is from the marker to the first answered probe that ends the
	// first outage starting at or after the marker; zero with no outage.
	After time.Duration `json:"after_ns"`
	// Outage is the length of that outage (zero with none).
	Outage time.Duration `json:"outage_ns"`
	// Never is set when the flow was still down when the window closed.
	Never bool `json:"never,omitempty"`
}

// FlowStats summarises one flow's samples.
type FlowStats struct {
	Flow        string          `json:"flow"`
	Mode        Mode            `json:"mode"`
	WindowStart time.Time       `json:"window_start"`
	WindowEnd   time.Time       `json:"window_end"`
	Sent        int             `json:"sent"`
	Answered    int             `json:"answered"`
	Lost        int             `json:"lost"`
	Outages     []Outage        `json:"outages,omitempty"`
	LongestGap  time.Duration   `json:"longest_gap_ns"`
	Recovered   bool            `json:"recovered"`
	Recoveries  []Recovery      `json:"recoveries,omitempty"`
	Responders  []ResponderSpan `json:"responders,omitempty"`
}

// Window returns the observation window's length.
func (f FlowStats) Window() time.Duration { return f.WindowEnd.Sub(f.WindowStart) }

// Analyze turns one flow's samples into its outages, responder changes and
// recovery times after each marker. Samples may come in any order; they are
// taken in send order. windowEnd closes the observation: an outage still
// running then is reported Open with End = windowEnd (zero windowEnd means the
// last sample's send time). Pure: no clock, no I/O.
func Analyze(samples []Sample, markers []Marker, windowEnd time.Time) FlowStats {
	s := append([]Sample(nil), samples...)
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].Sent.Equal(s[j].Sent) {
			return s[i].Seq < s[j].Seq
		}
		return s[i].Sent.Before(s[j].Sent)
	})
	var st FlowStats
	st.Recovered = true
	if len(s) == 0 {
		return st
	}
	st.Flow, st.Mode = s[0].Flow, s[0].Mode
	st.WindowStart = s[0].Sent
	st.WindowEnd = windowEnd
	if last := s[len(s)-1].Sent; windowEnd.IsZero() || windowEnd.Before(last) {
		st.WindowEnd = last
	}
	var cur *Outage
	var span *ResponderSpan
	for _, x := range s {
		st.Sent++
		if !x.Answered() {
			st.Lost++
			if cur == nil {
				st.Outages = append(st.Outages, Outage{Start: x.Sent, Results: map[Result]int{}})
				cur = &st.Outages[len(st.Outages)-1]
			}
			cur.Lost++
			cur.Results[x.Result]++
			continue
		}
		st.Answered++
		if cur != nil {
			cur.End = x.Sent
			cur = nil
		}
		if seen := HostOf(x.SeenSource); span == nil || span.Responder != x.Responder || span.SeenSource != seen {
			st.Responders = append(st.Responders, ResponderSpan{Responder: x.Responder, SeenSource: seen, First: x.Sent})
			span = &st.Responders[len(st.Responders)-1]
		}
		span.Last = x.Sent
		span.Answers++
	}
	if cur != nil {
		cur.End, cur.Open = st.WindowEnd, true
		st.Recovered = false
	}
	for _, o := range st.Outages {
		if d := o.Duration(); d > st.LongestGap {
			st.LongestGap = d
		}
	}
	for _, m := range markers {
		st.Recoveries = append(st.Recoveries, recoveryAfter(st.Outages, m))
	}
	return st
}

// recoveryAfter finds the first outage that was running at, or started after,
// the marker.
func recoveryAfter(outages []Outage, m Marker) Recovery {
	r := Recovery{Marker: m.Name}
	for _, o := range outages {
		if o.End.Before(m.At) || (!o.Open && o.End.Equal(m.At)) {
			continue
		}
		r.Outage = o.Duration()
		r.After = o.End.Sub(m.At)
		r.Never = o.Open
		return r
	}
	return r
}

// HostOf returns the host part of a host:port address, or the address itself.
func HostOf(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// ByFlow splits a mixed stream of samples into flows, keeping first-seen order.
func ByFlow(samples []Sample) (names []string, flows map[string][]Sample) {
	flows = map[string][]Sample{}
	for _, s := range samples {
		if _, ok := flows[s.Flow]; !ok {
			names = append(names, s.Flow)
		}
		flows[s.Flow] = append(flows[s.Flow], s)
	}
	return names, flows
}
