package reports

import (
	"time"

	"github.com/netchaos/netchaos/probe"
)

// The report's own record of what the probes measured. The probe package
// has types of the same shape (probe.FlowStats and the types it holds, and
// probe.Marker); the report copies them (StatsOf, MarkersOf) so that the
// JSON it writes and reads is this file's to change, not the probe's: the
// field names and omitempty here are the schema.

// Marker is a named moment of a run: a trigger injected, a mitigation
// applied. An Event marker (a Service deleted, re-created) is an annotation
// on the timeline: it does not start a window of its own.
type Marker struct {
	Name  string    `json:"name"`
	At    time.Time `json:"at"`
	Event bool      `json:"event,omitempty"`
}

// Stats is one flow's probes over its observation window.
type Stats struct {
	Flow string `json:"flow"`
	// Mode is how the flow's probes were sent ("udp-pinned", "tcp-new"...).
	Mode        string          `json:"mode"`
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
func (s Stats) Window() time.Duration { return s.WindowEnd.Sub(s.WindowStart) }

// Outage is a run of consecutive unanswered probes. Its edges are send
// times: Start is the first lost probe, End the first answered one after
// it. An outage still open when the window closed has Open set and End
// equal to the window's end: it lasted at least that long.
type Outage struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Open  bool      `json:"open,omitempty"`
	Lost  int       `json:"lost"`
	// Results counts the lost probes by outcome: "timeout", "refused",
	// "error".
	Results map[string]int `json:"results,omitempty"`
}

// The outcomes of a lost probe the renderers name (a timeout, the usual
// one, goes unnamed).
const (
	resultRefused = "refused"
	resultError   = "error"
)

// Duration is End-Start: for an open outage, a lower bound.
func (o Outage) Duration() time.Duration { return o.End.Sub(o.Start) }

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

// Identity names the responder that answered a probe.
type Identity struct {
	Pod  string `json:"pod,omitempty"`
	IP   string `json:"ip,omitempty"`
	Node string `json:"node,omitempty"`
}

// String is the probe's short human form: pod (ip) or ip alone.
func (id Identity) String() string { return probe.Identity(id).String() }
