package networkdrestart

import (
	"os/exec"
	"strings"
	"testing"
)

// The node scripts are shell run on a node; a syntax error would only show
// on a cluster, after the node was changed.
func TestNodeScriptsParse(t *testing.T) {
	scripts := map[string]string{
		"arm (networkd active)":       armScript(true),
		"arm (networkd inactive)":     armScript(false),
		"restore (networkd active)":   restoreScript(true),
		"restore (networkd inactive)": restoreScript(false),
		"stand-ins":                   standInScript("172.18.0.3"),
		"peer":                        peerScript(),
		"drop-in (mitigation)":        dropInScript(),
	}
	for name, s := range scripts {
		cmd := exec.Command("sh", "-n")
		cmd.Stdin = strings.NewReader(s)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v: %s", name, err, out)
		}
	}
}

// Everything the stand-ins and the arm step put on the node, the restore
// script takes away; and it removes itself at the end, which is what marks the
// node as restored.
func TestRestoreUndoesEveryStandIn(t *testing.T) {
	rs := restoreScript(false)
	for _, want := range []string{unitDropIn, eniNetwork, "ip link del " + eniLink, "nft delete table ip " + guardTable,
		dropIn, "umount " + sysfs, "udevdb", "ip route flush table " + eniTable, "ip rule del pref 1536", "ip rule del pref 512", timerUnit + ".timer",
		"systemctl stop systemd-networkd.service"} {
		if !strings.Contains(rs, want) {
			t.Errorf("restore script does not undo %q", want)
		}
	}
	if !strings.Contains(rs, "rm -rf "+state+" "+restore+"\n") {
		t.Errorf("restore script does not remove itself (%s) at the end", restore)
	}
	if !strings.Contains(restoreScript(true), "systemctl restart systemd-networkd.service") {
		t.Error("a node whose networkd was running gets it running again")
	}
}
