package hostnetworkflip

import (
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments"
)

func TestStale(t *testing.T) {
	toPod := "udp 17 29 src=10.244.1.12 dst=172.18.0.3 sport=48125 dport=8125 src=10.244.1.7 dst=10.244.1.12 sport=8125 dport=48125 [ASSURED] mark=0 use=1"
	toNode := "udp 17 29 src=10.244.1.12 dst=172.18.0.3 sport=48127 dport=8125 [UNREPLIED] src=172.18.0.3 dst=10.244.1.12 sport=8125 dport=48127 mark=0 use=1"
	for _, tc := range []struct {
		name, conntrack, agent, want string
	}{
		{"hostPort agent, entry DNATed to it", toPod, "10.244.1.7", ""},
		{"hostNetwork agent, entry still DNATed to the old pod", toPod, "172.18.0.3", "sport 48125 DNATed to 10.244.1.7:8125, while the agent listens on 172.18.0.3"},
		{"hostNetwork agent, entry to the node", toNode, "172.18.0.3", ""},
		{"hostPort agent, entry still to the node's own port", toNode, "10.244.1.9", "sport 48127 not NATed: delivered to the node's own port 8125"},
	} {
		got := stale(experiments.ParseConntrack(tc.conntrack), tc.agent)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
