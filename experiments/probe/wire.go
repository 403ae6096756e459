package probe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The wire protocol is deliberately tiny so one core echoes many thousands of
// probes a second. A request is "NC1 <seq>\n"; the reply is one JSON object
// (one line on TCP) naming the responder and the source address it saw.

var requestPrefix = []byte("NC1 ")

// appendRequest appends the request for seq to b.
func appendRequest(b []byte, seq uint64) []byte {
	b = append(b, requestPrefix...)
	b = strconv.AppendUint(b, seq, 10)
	return append(b, '\n')
}

// parseRequest returns the sequence number of a request.
func parseRequest(b []byte) (uint64, error) {
	b = bytes.TrimRight(b, "\r\n")
	if !bytes.HasPrefix(b, requestPrefix) {
		return 0, fmt.Errorf("not a probe request")
	}
	return strconv.ParseUint(string(b[len(requestPrefix):]), 10, 64)
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
