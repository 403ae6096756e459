// Package probe carries the traffic whose loss netchaos measures: UDP and TCP
// probers that stamp every probe with its send time, an echo responder that
// answers with its own identity and the source address it saw, and pure
// functions that turn the resulting samples into outages.
//
// The package is a library: it imports no test framework and logs nothing
// unless given a logger.
package probe

import (
	"time"
)

// Mode names how a prober sends its probes.
type Mode string

// The probe modes. Pinned and reused keep one socket for the whole run, as a
// statsd/SNMP client or a keep-alive HTTP client does: they are what stale
// conntrack entries bite. Fresh and new open a new socket (new source port)
// per probe: they are the control.
//
// UDPOneWay is a pinned socket that never reads a reply (statsd, SNMP traps):
// the responder reports arrivals on another 5-tuple.
const (
	UDPPinned Mode = "udp-pinned"
	UDPOneWay Mode = "udp-oneway"
	UDPFresh  Mode = "udp-fresh"
	TCPNew    Mode = "tcp-new"
	TCPReused Mode = "tcp-reused"
)

// Modes lists every mode, in report order.
var Modes = []Mode{UDPPinned, UDPOneWay, UDPFresh, TCPNew, TCPReused}

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool {
	for _, k := range Modes {
		if k == m {
			return true
		}
	}
	return false
}

// Identity names the responder that answered a probe.
type Identity struct {
	Pod  string `json:"pod,omitempty"`
	IP   string `json:"ip,omitempty"`
	Node string `json:"node,omitempty"`
}

// String is a short human form: pod (ip) or ip alone.
func (id Identity) String() string {
	switch {
	case id.Pod != "" && id.IP != "":
		return id.Pod + " (" + id.IP + ")"
	case id.Pod != "":
		return id.Pod
	default:
		return id.IP
	}
}

// Result is the outcome of one probe.
type Result string

// Probe outcomes. Refused is an explicit rejection (ICMP port unreachable, TCP
// RST); Timeout is silence until the probe's deadline.
const (
	OK      Result = "ok"
	Timeout Result = "timeout"
	Refused Result = "refused"
	Error   Result = "error"
)

// Sample is one probe: stamped with the time it was sent, never the time the
// answer arrived, so an outage's edges are the send times of the first lost
// and the first answered probe.
type Sample struct {
	Flow   string    `json:"flow"`
	Mode   Mode      `json:"mode"`
	Seq    uint64    `json:"seq"`
	Sent   time.Time `json:"sent"`
	Result Result    `json:"result"`
	// RTT is the round trip of an answered probe.
	RTT time.Duration `json:"rtt_ns,omitempty"`
	// Local is the client's own address for this probe (its source port).
	Local string `json:"local,omitempty"`
	// Responder is who answered; empty when nobody did.
	Responder Identity `json:"responder,omitzero"`
	// SeenSource is the client address as the responder saw it: equal to
	// Local's IP when the client's source IP was preserved, a node IP after SNAT.
	SeenSource string `json:"seen_src,omitempty"`
	// Err is the error text of a failed probe.
	Err string `json:"err,omitempty"`
}

// Answered reports whether the probe got its reply.
func (s Sample) Answered() bool { return s.Result == OK }
