package experiments

import "testing"

func TestParseConntrack(t *testing.T) {
	out := `udp      17 29 src=10.244.1.12 dst=172.18.0.3 sport=48125 dport=8125 src=10.244.1.7 dst=10.244.1.12 sport=8125 dport=48125 [ASSURED] mark=0 use=1
udp      17 28 src=10.244.1.12 dst=10.96.14.2 sport=40162 dport=162 [UNREPLIED] src=10.96.14.2 dst=10.244.1.12 sport=162 dport=40162 mark=0 use=1
conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.
(2 entries to port 8125 in all)`
	e := ParseConntrack(out)
	if len(e) != 2 {
		t.Fatalf("%d entries, want 2: %+v", len(e), e)
	}
	if !e[0].DNATed() || e[0].ReplyFrom() != "10.244.1.7:8125" || e[0].Orig.Sport != 48125 || e[0].Unreplied {
		t.Errorf("first entry %+v: want DNATed to 10.244.1.7:8125, replied", e[0])
	}
	if e[1].DNATed() || !e[1].Unreplied || e[1].Orig.Dst != "10.96.14.2" || e[1].Orig.Dport != 162 {
		t.Errorf("second entry %+v: want un-NATed, unreplied, to 10.96.14.2:162", e[1])
	}
}
