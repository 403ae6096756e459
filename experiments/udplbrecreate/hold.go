package udplbrecreate

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/reports"
)

// Hold is how long the hold variant keeps the backends at zero once the
// Service has no endpoints: longer than the 30 s UDP conntrack timeout, so
// an entry still DNATed to a deleted backend when it is read (HeldWhen) is
// one the flows' own packets kept alive.
const Hold = 40 * time.Second

// heldAt is when in the hold the fixed-source entries are read.
const heldAt = Hold - 5*time.Second

// HeldWhen is the Evidence.When of the entries read during the hold.
const HeldWhen = "backends held at zero"

// holdInfo is the hold variant's description.
func (x *Recreate) holdInfo() experiments.Info {
	trigger := fmt.Sprintf("scale the UDP ClusterIP Service's backends to zero and hold them there for %s, then back", Hold)
	return experiments.Info{
		Title:    "T2 UDP ClusterIP Service held at zero backends with a fixed-source flow",
		Trigger:  trigger,
		Sources:  []string{"kubernetes/kubernetes#139628", "kubernetes/kubernetes#139629", "kubernetes/kubernetes#127318"},
		Controls: []string{"*/fresh"},
		// Nothing answers while there are no backends, on any release: the
		// failure is where the packets go meanwhile (Assess), not the outage.
		// The hold, plus the backends going (4.5 s from the trigger to no
		// endpoints on kind) and coming back (5.6 s to two ready pods).
		Inherent:  Hold + 15*time.Second,
		Hold:      Hold,
		Tolerance: 2 * time.Second,
		Mechanism: holdMechanism,
		Plan: []string{
			"namespace netchaos-" + x.Name() + "-<run> with janitor and privileged node-agent DaemonSet",
			"Deployment snmp-backend (2 UDP echo pods); ClusterIP Service snmp (UDP 162)",
			"DaemonSet snmp-sender on every node: fixed-source (sport 40162; one-way like statsd, sport 40163) and rotating-port flows, 100 probes/s each",
			"fault: " + trigger + " (inside the namespace)",
			"evidence: the fixed-source entries on every node " + (Hold - heldAt).String() + " before the hold ends",
			"mitigation: conntrack -D for source ports 40162 and 40163 on every node",
		},
	}
}

// holdMechanism is the failure the hold variant looks for.
var holdMechanism = experiments.Mechanism{
	Name: "stale DNAT to a deleted backend: while a UDP Service has no endpoints kube-proxy's conntrack reconciler (v1.32+) skips it, " +
		"so the fixed-source flows' entries keep DNATing to the deleted pods' IPs for as long as they send (blackholed, or delivered to whatever pod gets the IP next)",
	Source:     "kubernetes/kubernetes#139628 (13 hours of blackholed statsd; a regression of #127318, v1.32; ≤ v1.31 cleared the entries of every deleted UDP endpoint); fixed by #139629 (v1.37)",
	Mitigation: "kube-proxy v1.37+ (#139629); by hand: conntrack -D -p udp --orig-dst <ClusterIP> on every node",
}

// hold scales the backends to zero, waits until the Service has no
// endpoints, keeps it so for Hold, reads the fixed-source entries
// (HeldWhen) and scales back.
func (t *trial) hold(ctx context.Context, r *experiments.Run) error {
	ips, err := t.endpointIPs(ctx, r)
	if err != nil {
		return err
	}
	t.deleted = map[string]bool{}
	for _, ip := range ips {
		t.deleted[ip] = true
	}
	if err := kube.Scale(ctx, r.Kube, r.Namespace, "snmp-backend", 0); err != nil {
		return err
	}
	r.Event("backends scaled to zero")
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, kube.Timeouts.Delete, true, func(ctx context.Context) (bool, error) {
		left, err := t.endpointIPs(ctx, r)
		return err == nil && len(left) == 0, nil
	}); err != nil {
		return fmt.Errorf("waiting for the Service to have no endpoints: %w", err)
	}
	empty := r.Event("no endpoints")
	if !experiments.Sleep(ctx, time.Until(empty.Add(heldAt))) {
		return ctx.Err()
	}
	r.Capture(HeldWhen, t.conntrackEvidence(ctx, r, t.staleDNAT)...)
	if !experiments.Sleep(ctx, time.Until(empty.Add(Hold))) {
		return ctx.Err()
	}
	err = kube.Scale(ctx, r.Kube, r.Namespace, "snmp-backend", 2)
	r.Event("backends scaled back")
	return err
}

// endpointIPs are the addresses of the Service's endpoints (any condition),
// sorted.
func (t *trial) endpointIPs(ctx context.Context, r *experiments.Run) ([]string, error) {
	sl, err := r.Kube.DiscoveryV1().EndpointSlices(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=snmp"})
	if err != nil {
		return nil, fmt.Errorf("list endpoint slices: %w", err)
	}
	var ips []string
	for _, s := range sl.Items {
		for _, ep := range s.Endpoints {
			ips = append(ips, ep.Addresses...)
		}
	}
	sort.Strings(ips)
	return ips, nil
}

// staleDNAT names the entries still DNATed to a backend the hold deleted
// ("" when there is none).
func (t *trial) staleDNAT(entries []experiments.CTEntry) string {
	var bad []string
	for _, e := range entries {
		if e.DNATed() && t.deleted[e.Reply.Src] {
			bad = append(bad, fmt.Sprintf("sport %d → %s", e.Orig.Sport, e.ReplyFrom()))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return "stale DNAT to a deleted backend: " + strings.Join(bad, "; ")
}

// holdExpected is what kube-proxy does with the entries of a UDP Service
// that has lost all its endpoints, by kube-proxy's minor version; the
// first row whose bound holds wins. Read in pkg/proxy/conntrack/cleanup.go
// of the releases the module proxy serves: the skip is in v1.34.2, v1.34.4
// and v1.36.3, gone in v1.37.2.
var holdExpected = []struct {
	maxMinor int // inclusive; 0: any
	kept     bool
	source   string
}{
	{31, false, "kube-proxy ≤ v1.31 clears the entries of every deleted UDP endpoint (DeletedUDPEndpoints)"},
	{36, true, "kubernetes/kubernetes#139628: the v1.32+ reconciler skips a Service without endpoints (fixed by #139629)"},
	{0, false, "kubernetes/kubernetes#139629 (v1.37): the reconciler clears a Service without endpoints too"},
}

// Assess implements experiments.Assessor: one cell, whether the
// fixed-source entries read during the hold still DNAT to a deleted
// backend. That is the failure, whatever the flows lost: while the Service
// has no backends nothing answers on any release, but the packets go to a
// dead pod's IP (or to the next pod given it) instead of being rejected.
func (t *trial) Assess(env experiments.Environment, ev []experiments.Evidence) []experiments.Cell {
	if t.v != ScaleToZeroHold {
		return nil
	}
	var kept, clean, failed []string
	for _, e := range ev {
		node, ok := strings.CutPrefix(e.Name, ctEvidence)
		if e.When != HeldWhen || !ok {
			continue
		}
		_, node, _ = strings.Cut(node, " on ")
		switch {
		case strings.HasPrefix(e.Text, "error: "):
			failed = append(failed, node)
		case e.Shows != "":
			kept = append(kept, node+": "+strings.TrimPrefix(e.Shows, "stale DNAT to a deleted backend: "))
		default:
			clean = append(clean, node)
		}
	}
	if len(kept)+len(clean)+len(failed) == 0 {
		return nil
	}
	c := experiments.Cell{Case: fmt.Sprintf("fixed-source flows' entries %s after the Service lost its endpoints", heldAt)}
	switch {
	case len(kept) > 0:
		c.Observed = fmt.Sprintf("still DNATed to a deleted backend on %d of %d nodes (%s)", len(kept), len(kept)+len(clean)+len(failed), strings.Join(kept, "; "))
		c.Verdict = string(reports.Vulnerable)
	case len(failed) > 0:
		c.Observed = "not read on " + strings.Join(failed, ", ") + "; none DNATed to a deleted backend elsewhere"
	default:
		c.Observed = "none DNATed to a deleted backend on any node"
	}
	if env.KubeProxyMode == "none" || env.ProxyMinor() == 0 {
		c.Match = true // no kube-proxy release to expect anything of
		return []experiments.Cell{c}
	}
	for _, row := range holdExpected {
		if row.maxMinor == 0 || env.ProxyMinor() <= row.maxMinor {
			c.Expected, c.Source = "none DNATed to a deleted backend", row.source
			if row.kept {
				c.Expected = "still DNATed to a deleted backend"
			}
			c.Match = row.kept == (len(kept) > 0)
			break
		}
	}
	return []experiments.Cell{c}
}
