package e2e

import (
	"context"
	"fmt"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/netchaos/netchaos/experiments/controls"
)

// nodeState is what T3 may change on a node, minus what pods coming and
// going change (their veths and host routes): on kind also the VPC CNI it
// sets up for its victims (conflist, ipamd's iptables chains and rules,
// the plugin's /host log tree).
const nodeState = `ip rule show
ip route show table all | grep -v ' dev veth' | grep -vE '^(local|broadcast) '
ip -br addr show | grep -v '^veth'
nft list tables
ls -A /etc/cni/net.d
iptables-save 2>/dev/null | grep AWS | sort
ls -d /host 2>/dev/null || true
cat /proc/sys/net/ipv4/conf/eth0/rp_filter
mount | grep -E 'sysfs|netchaos' | sort
systemctl is-active systemd-networkd || true
systemctl list-units --all --no-legend --plain 'netchaos-*' || true
ls -A /run/udev /run/systemd/network /run/systemd/system /etc/systemd/networkd.conf.d /run/netchaos 2>&1 | sort`

// Both triggers of T3: networkd restarted, and a new link it manages.
var _ = Describe("T3 systemd-networkd flushes the VPC CNI's rules", Serial, Label("t3", "node-disruptive", "experiment"), func() {
	for _, name := range []string{"T3 networkd restart, drop-in as the fixed twin", "T3 new networkd-managed link, drop-in as the fixed twin"} {
		It(name+": vulnerable with the rules gone, resilient with the drop-in, every node left as found", func(ctx context.Context) {
			c, ok := controls.Find(name)
			Expect(ok).To(BeTrue())
			before, err := env.OnEveryNode(ctx, nodeState)
			Expect(err).NotTo(HaveOccurred())
			// The lab as built: no profile to switch to.
			asBuilt := func(_ context.Context, profile string) error {
				if profile != "default" {
					return fmt.Errorf("T3 runs in the lab as built, not %s", profile)
				}
				return nil
			}
			res, x, err := c.Run(ctx, env, asBuilt)
			record(res)
			if !res.Applicable {
				Skip("not applicable: " + res.Reason)
			}
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry(c.Name, controls.Summary(c, x))
			Expect(c.Check(x)).To(BeEmpty(), "%s: %s", x.Verdict, x.Reason)
			By("comparing every node's routing, links, mounts, units, conflists and iptables with the snapshot taken before")
			after, err := env.OnEveryNode(ctx, nodeState)
			Expect(err).NotTo(HaveOccurred())
			Expect(lineDiff(before, after)).To(BeEmpty(), "node state changed by the run (- before, + after)")
		})
	}
})

// lineDiff lists lines only in a ("- ") or only in b ("+ ").
func lineDiff(a, b []string) []string {
	var d []string
	for _, l := range a {
		if !slices.Contains(b, l) {
			d = append(d, "- "+l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			d = append(d, "+ "+l)
		}
	}
	return d
}
