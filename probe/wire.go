package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The wire protocol is deliberately tiny so one core echoes many thousands of
// probes a second. A request is "NC1 <seq>\n"; the reply is one JSON object
// (one line on TCP) naming the responder and the source address it saw. A
// one-way request, "NC1 <seq> <ack host:port>\n", is never answered on its
// own 5-tuple: the responder reports the arrival to the ack address instead,
// from a different 5-tuple, so the probed flow stays one-way as statsd and
// SNMP traps are ([UNREPLIED] in conntrack).

var requestPrefix = []byte("NC1 ")

// appendRequest appends the request for seq to b; ack, when not empty, makes
// it a one-way request.
func appendRequest(b []byte, seq uint64, ack string) []byte {
	b = append(b, requestPrefix...)
	b = strconv.AppendUint(b, seq, 10)
	if ack != "" {
		b = append(b, ' ')
		b = append(b, ack...)
	}
	return append(b, '\n')
}

// parseRequest returns the sequence number of a request and, for a one-way
// request, the address to report its arrival to.
func parseRequest(b []byte) (seq uint64, ack string, err error) {
	b = bytes.TrimRight(b, "\r\n")
	if !bytes.HasPrefix(b, requestPrefix) {
		return 0, "", fmt.Errorf("not a probe request")
	}
	num, rest, _ := bytes.Cut(b[len(requestPrefix):], []byte(" "))
	seq, err = strconv.ParseUint(string(num), 10, 64)
	return seq, string(rest), err
}

// reply is what the echo responder sends back.
type reply struct {
	Seq  uint64 `json:"seq"`
	Pod  string `json:"pod,omitempty"`
	IP   string `json:"ip,omitempty"`
	Node string `json:"node,omitempty"`
	Src  string `json:"src"`
}

// appendReply appends the JSON reply for seq, seen from src, to b.
func appendReply(b []byte, id Identity, seq uint64, src string) []byte {
	r, _ := json.Marshal(reply{Seq: seq, Pod: id.Pod, IP: id.IP, Node: id.Node, Src: src})
	b = append(b, r...)
	return append(b, '\n')
}

// parseReply decodes a reply.
func parseReply(b []byte) (reply, error) {
	var r reply
	err := json.Unmarshal(bytes.TrimRight(b, "\r\n"), &r)
	return r, err
}
