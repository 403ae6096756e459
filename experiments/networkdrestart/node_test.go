package networkdrestart

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments"
)

// kindNodes are a three-node kind cluster's, as Detect reports them.
var kindNodes = []experiments.Node{
	{Name: "netchaos-control-plane", IP: "172.18.0.4", PodCIDR: "10.244.0.0/24", ControlPlane: true},
	{Name: "netchaos-worker", IP: "172.18.0.2", PodCIDR: "10.244.1.0/24"},
	{Name: "netchaos-worker2", IP: "172.18.0.3", PodCIDR: "10.244.2.0/24"},
}

// The node scripts are shell run on a node; a syntax error would only show
// on a cluster, after the node was changed.
func TestNodeScriptsParse(t *testing.T) {
	for name, s := range scripts() {
		cmd := exec.Command("sh", "-n")
		cmd.Stdin = strings.NewReader(s)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v: %s", name, err, out)
		}
	}
}

// Everything the stand-ins, the stand-in ipamd, the conflist and the arm
// step put on a kind node, the restore script takes away; and it removes
// itself at the end, which is what marks the node as restored.
func TestRestoreUndoesEveryStandIn(t *testing.T) {
	rs := restoreScript(false, true)
	for _, want := range []string{
		"systemctl stop " + ipamdUnit, "rm -f " + conflist, "ip link del " + eniLink, "ip route flush table " + eniTable,
		`--comment "?AWS`, "iptables -t nat -X $c", "AWS-SNAT-CHAIN-0 AWS-CONNMARK-CHAIN-0", "rm -rf /host", "/var/lib/cni/results/aws-cni-*",
		unitDropIn, managedNetwork, unmanagedNetwork, managedLink + " " + hotLink + "0 " + hotLink + "1; do ip link del", "nft delete table ip " + guardTable,
		dropIn, "umount " + sysfs, "udevdb", "ip rule del pref", timerUnit + ".timer",
		"systemctl stop systemd-networkd.service"} {
		if !strings.Contains(rs, want) {
			t.Errorf("restore script does not undo %q", want)
		}
	}
	if !strings.Contains(rs, "rm -rf "+state+" "+restore+"\n") {
		t.Errorf("restore script does not remove itself (%s) at the end", restore)
	}
	if !strings.Contains(restoreScript(true, true), "systemctl restart systemd-networkd.service") {
		t.Error("a node whose networkd was running gets it running again")
	}
	if !strings.Contains(armScript(false, true), "host.absent") {
		t.Error("arm does not record whether /host was there")
	}
}

// On EKS the CNI is the cluster's: the restore deletes none of its rules,
// stops nothing of it and touches no iptables; it puts back what the
// snapshot had and removes only T3's own files.
func TestRestoreOnEKSLeavesTheCNIAlone(t *testing.T) {
	rs := restoreScript(true, false)
	for _, never := range []string{"ip rule del", ipamdUnit, conflist, "iptables", "rm -rf /host", eniLink, "ip route flush"} {
		if strings.Contains(rs, never) {
			t.Errorf("EKS restore script contains %q", never)
		}
	}
	for _, want := range []string{"ip rule add pref", "ip route replace", dropIn, unmanagedNetwork, "systemctl restart systemd-networkd.service"} {
		if !strings.Contains(rs, want) {
			t.Errorf("EKS restore script lacks %q", want)
		}
	}
}

// The stand-in VPC is every node's address, every pod CIDR and the ENI's
// subnet, each once.
func TestVPCCIDRs(t *testing.T) {
	got := vpcCIDRsOf(kindNodes)
	want := []string{"172.18.0.4/32", "10.244.0.0/24", "172.18.0.2/32", "10.244.1.0/24", "172.18.0.3/32", "10.244.2.0/24", eniSubnet}
	if !slices.Equal(got, want) {
		t.Errorf("vpcCIDRsOf: got %v, want %v", got, want)
	}
}
