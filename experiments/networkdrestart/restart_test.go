package networkdrestart

import (
	"strings"
	"testing"
)

func TestRulesGone(t *testing.T) {
	x := &trial{podIP: "10.244.1.7"}
	before := "0:\tfrom all lookup local\n512:\tfrom all to 10.244.1.7 lookup main\n1536:\tfrom 10.244.1.7 lookup 1001\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n"
	if got := x.rulesGone(before); got != "" {
		t.Errorf("both rules present: got %q", got)
	}
	after := "0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n"
	got := x.rulesGone(after)
	for _, want := range []string{"per-pod ip rules gone", "512: from all to 10.244.1.7 lookup main", "1536: from 10.244.1.7 lookup 1001"} {
		if !strings.Contains(got, want) {
			t.Errorf("flushed: %q lacks %q", got, want)
		}
	}
	other := strings.ReplaceAll(before, "10.244.1.7", "10.244.1.8")
	if got := x.rulesGone(other); got == "" {
		t.Error("another pod's rules must not count as this pod's")
	}
}
