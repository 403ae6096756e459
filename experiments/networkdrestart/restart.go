// Package networkdrestart is trigger T3: systemd-networkd (>= v248) removes
// routing-policy rules it did not create whenever it configures a link it
// manages — at every (re)start (ManageForeignRoutingPolicyRules=yes is the
// default). The AWS VPC CNI keeps per-pod rules (512 "to <podIP> lookup
// main", 1536 "from <podIP> lookup <eni table>") and ipamd's node rules
// (1024 "fwmark 0x80 lookup main", 32765 "from <ENI IP>"); after a networkd
// restart — an unattended upgrade is enough — they are gone, egress of pods
// on secondary ENIs falls back to the main table and leaves by the primary
// ENI, where the VPC drops it, and nothing restores the rules until the pod
// is re-created. Upstream: aws/amazon-vpc-cni-k8s#3309, kubernetes/kops#17433
// (2025 outage); fixes are networkd drop-ins (kops #17438, amazon-eks-ami
// #1539, bottlerocket #3437).
//
// The victim pods get their network from the real VPC CNI plugin (aws-cni,
// amazon-vpc-cni-k8s v1.20.0) on both kinds of cluster, so the rules that
// vanish are the ones its code installed:
//   - EKS (any cluster with the aws-node DaemonSet): the cluster's own VPC
//     CNI, ipamd and VPC. Nothing is stood in; the node gets only the
//     restore timer, the mitigations' files and the networkd restarts.
//   - kind: the plugins, put on every worker by tools/cluster/cni.sh, run
//     for the victim pods through EKS's 10-aws.conflist, installed only
//     while they are created; ipamd is tools/vpccni's stand-in, whose node
//     set-up is ipamd's own networkutils code. What has no counterpart off
//     AWS is stood in: the secondary ENI (a macvlan), the VPC's side of it
//     (addresses on the peer node), its source/destination check (an
//     nftables drop), udev and a networkd-managed link (standInScript).
//
// Flows: the victim's egress to the peer node's address and to a pod on the
// peer (both VPC destinations, routed by rule 1536 to the ENI), NodePort
// ingress from the peer to a victim server (its replies routed by rule 1024,
// the fwmark path), and controls from the affected node's host network to
// the same targets, which no policy rule routes.
package networkdrestart

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// Deadline bounds the fault: the pods stop sending then, and a minute later
// a transient systemd timer on the node runs the restore script, even if
// the runner died.
const Deadline = 10 * time.Minute

// Mitigations, in the order they are applied.
const (
	mReAdd      = "re-add pod rules"
	mIpamd      = "restart ipamd"
	mDropIn     = "drop-in + restart networkd"
	mUnmanaged  = "Unmanaged=yes + restart networkd"
	mDropInLink = "drop-in + new link"
)

// Restart is the experiment: networkd restarted (New), or a new link it
// manages appearing (NewLink).
type Restart struct{ newLink bool }

// trial is one run: the node whose networkd restarts, the peer that holds
// the targets, and what the VPC CNI installed for the victim pods.
type trial struct {
	node, peer experiments.Node
	kind       bool     // kind: the stand-ins are ours to set up and take away
	newLink    bool     // the trigger is a new managed link, not a restart
	vpcCIDRs   []string // kind: what the stand-in ipamd is told the VPC is
	awsPods    []string // every pod created on the VPC CNI, for Recover
	peerEcho   string   // the peer's echo pod's address
	serverPod  string   // the victim server kept, the NodePort Service's backend
	nodePort   int32
	// client and server are the victim pods' rules and ENI table as the
	// plugin installed them; nodeRules are ipamd's on the node.
	client, server PodRouting
	nodeRules      []Rule
}

var (
	_ experiments.Mitigator = (*Restart)(nil)
	_ experiments.Outage    = (*trial)(nil)
	_ experiments.Recoverer = (*trial)(nil)
)

// New returns the experiment whose trigger is a networkd restart.
func New() *Restart { return &Restart{} }

// NewLink returns the experiment whose trigger is a new link networkd
// manages appearing on a running node — the ENI hot-attach case
// (aws/amazon-vpc-cni-k8s#1600) — on kind: networkd configures the link and
// drops every foreign rule as it does.
func NewLink() *Restart { return &Restart{newLink: true} }

// Name implements experiments.Experiment.
func (x *Restart) Name() string {
	if x.newLink {
		return "networkd-newlink"
	}
	return "networkd-restart"
}

// Info implements experiments.Experiment.
func (x *Restart) Info() experiments.Info {
	if x.newLink {
		return x.newLinkInfo()
	}
	return restartInfo(x.Name())
}

// restartInfo is the restart trigger's Info for the experiment called name
// (the new-link trigger starts from it).
func restartInfo(name string) experiments.Info {
	return experiments.Info{
		Title:   "T3 systemd-networkd restart flushes the VPC CNI's per-pod ip rules",
		Trigger: networkdCmd + " on the node",
		Sources: []string{"aws/amazon-vpc-cni-k8s#3309", "kubernetes/kops#17433", "kubernetes/kops#17438", "awslabs/amazon-eks-ami#1539"},
		Plan: []string{
			"namespace netchaos-" + name + "-<run> with janitor and privileged node-agent DaemonSet",
			"pods: on the first worker the victims on the AWS VPC CNI (eni-pod: egress and pod-to-pod probes to the second worker; eni-server: echo behind NodePort Service eni-server) and a host-network control client; on the second worker a host-network echo, an echo pod and a host-network NodePort client",
			"kind, NODE CHANGES on the first worker: the stand-in ipamd as transient unit " + ipamdUnit + " (ipamd's own node set-up: rule 1024 fwmark 0x80, iptables nat AWS-SNAT-CHAIN-0 and AWS-CONNMARK-CHAIN-0 and mangle CONNMARK rules, macvlan " + eniLink + " as the secondary ENI with " + eniIP + ", route table " + eniTable + " and rule 32765), " + conflist + " while the victims are created (aws-cni gives them their veths, /32s, host routes and rules 512 and 1536), veth " + managedLink + " managed by networkd, nftables table " + guardTable + " (the VPC's source/destination check), eth0's rp_filter 2 (aws-vpc-cni-init's; the old value restored), a writable sysfs bound over /sys for networkd alone and a udev database entry for " + managedLink + " (kind has no udev); a transient systemd timer restores the node after " + Deadline.String(),
			"kind, NODE CHANGES on the second worker: " + eniGateway + "/32 on eth0, routes " + eniIP + " dev eth0 and " + eniSubnet + " via " + eniIP + " (the stand-in VPC's side of the ENI), its neighbour entry for " + eniIP + " removed by its restore",
			"EKS, NODE CHANGES on the first worker: none but the restore timer before the fault; the VPC CNI's own rules are read, nothing is stood in",
			"fault: " + networkdCmd + " on the first worker (node-disruptive)",
			"mitigations: re-add the pods' rules 512 and 1536 as CNI ADD does; restart ipamd (kind: the stand-in's unit; EKS: the aws-node container, through crictl); networkd drop-in ManageForeign*=no + restart; instead of the drop-in, " + unmanagedNetwork + " (Unmanaged=yes for eni* and the ENI) + restart",
		},
		Controls: []string{"*/ctl-*"},
		Mechanism: experiments.Mechanism{
			Name:       "systemd-networkd removes the VPC CNI's ip rules (ManageForeignRoutingPolicyRules=yes)",
			Source:     "aws/amazon-vpc-cni-k8s#3309",
			Mitigation: "networkd drop-in ManageForeignRoutingPolicyRules=no",
		},
	}
}

// Applies implements experiments.Experiment. The runner runs it only when
// node disruption is allowed (the catalog marks it node-disruptive; the
// CLI's --allow-node-disruption).
func (x *Restart) Applies(env experiments.Environment) (bool, string) {
	switch {
	case x.newLink && env.Provider != "kind":
		return false, "the new-link trigger is simulated on kind only (a new link networkd manages); on " + env.Provider + " it would need a .network file for a link of its own"
	case env.Provider == "kind":
	case env.Provider == "eks" && env.CNI == cniAWS:
	case env.Provider == "eks":
		return false, "the cluster's CNI is " + env.CNI + ", not the AWS VPC CNI (no aws-node DaemonSet in kube-system)"
	default:
		return false, "needs the AWS VPC CNI: on EKS (aws-node) or on kind (the real plugin with a stand-in ipamd), not on " + env.Provider
	}
	if len(env.Workers()) < 2 {
		return false, "needs two worker nodes"
	}
	return true, ""
}

// cniAWS is what Detect calls the AWS VPC CNI (the aws-node DaemonSet).
const cniAWS = "aws-vpc-cni"

// Setup implements experiments.Experiment: check networkd (and on EKS the
// VPC CNI's rules), snapshot the node, arm the node-side restore timer, on
// kind set up the stand-ins and the stand-in ipamd, then the pods, and read
// what the VPC CNI installed for the victims.
func (x *Restart) Setup(ctx context.Context, r *experiments.Run) (experiments.Trial, error) {
	w := r.Cluster.Workers()
	t := &trial{node: w[0], peer: w[1], kind: r.Cluster.Provider == "kind", newLink: x.newLink}
	if _, err := r.Agent.Host(ctx, t.node.Name, "systemctl", "cat", "systemd-networkd.service"); err != nil {
		return t, experiments.NotApplicable("node %s has no systemd-networkd", t.node.Name)
	}
	if !t.kind {
		out, err := r.Agent.Run(ctx, t.node.Name, "ip", "rule", "show")
		if err != nil {
			return t, fmt.Errorf("ip rule on %s: %w", t.node.Name, err)
		}
		if !HasVPCCNIRules(ParseRules(out)) {
			return t, experiments.NotApplicable("node %s has no VPC CNI rules (no rule %d fwmark %s)", t.node.Name, prefFwmark, vpcFwmark)
		}
	}
	if err := t.arm(ctx, r); err != nil {
		return t, err
	}
	if t.kind {
		t.vpcCIDRs = vpcCIDRsOf(r.Cluster.Nodes)
		if err := t.standIns(ctx, r); err != nil {
			return t, err
		}
	}
	if err := t.pods(ctx, r); err != nil {
		return t, err
	}
	r.WantFlows(len(t.flows()))
	return t, nil
}

// arm runs armScript on the node: snapshot, restore script, timer.
func (t *trial) arm(ctx context.Context, r *experiments.Run) error {
	active, _ := r.Agent.Host(ctx, t.node.Name, "sh", "-c", "systemctl is-active systemd-networkd || true")
	return r.Do("arm the restore timer on "+t.node.Name, func() error {
		_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", armScript(strings.TrimSpace(active) == "active", t.kind))
		return err
	})
}

// standIns sets up, on kind, what EKS has and kind lacks (standInScript,
// peerScript) and starts the stand-in ipamd, whose node set-up is ipamd's
// own code.
func (t *trial) standIns(ctx context.Context, r *experiments.Run) error {
	type step struct{ what, node, script string }
	steps := []step{
		{"stand-in VPC side of the ENI on " + t.peer.Name, t.peer.Name, peerScript()},
		{"stand-ins (udev, managed link, ENI, VPC check) on " + t.node.Name, t.node.Name, standInScript()},
	}
	if t.newLink { // running before the VPC CNI's rules exist, as on a node booted with it
		steps = append(steps, step{"start networkd on " + t.node.Name, t.node.Name, networkdUpScript()})
	}
	steps = append(steps, step{"stand-in ipamd on " + t.node.Name, t.node.Name, ipamdScript(t.vpcCIDRs, false)})
	for _, s := range steps {
		if err := r.Do(s.what, func() error { _, err := r.Agent.Host(ctx, s.node, "sh", "-c", s.script); return err }); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// vpcCIDRsOf is the stand-in VPC on kind: every node's address and pod
// CIDR and the ENI's subnet. Destinations in it leave a pod by its ENI
// (rule 1536); others are marked, SNATed and leave by eth0 (rule 1024), as
// ipamd's iptables rules decide.
func vpcCIDRsOf(nodes []experiments.Node) []string {
	var out []string
	for _, n := range nodes {
		if n.IP != "" {
			out = append(out, n.IP+"/32")
		}
		if n.PodCIDR != "" && !slices.Contains(out, n.PodCIDR) {
			out = append(out, n.PodCIDR)
		}
	}
	return append(out, eniSubnet)
}

// Inject implements experiments.Outage.
func (t *trial) Inject(ctx context.Context, r *experiments.Run) error {
	script := networkdCmd
	if t.newLink {
		script = newLinkScript(hotLink + "0")
	}
	_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", script)
	return err
}

// Mitigations implements experiments.Mitigator: first what re-creating the
// pods would do (CNI ADD re-adds their rules 512 and 1536, not ipamd's
// 1024), then a restart of ipamd (its start re-adds 1024 and 32765), then
// the known fix, the drop-in, and the same restart again, which should now
// cost nothing; last, instead of the drop-in, the CNI's links left
// unmanaged, and the restart again.
func (x *Restart) Mitigations() []experiments.Mitigation {
	if x.newLink {
		return []experiments.Mitigation{
			experiments.Mitigate(mReAdd, (*trial).reAddRules),
			experiments.Mitigate(mIpamd, (*trial).restartIpamd),
			experiments.Mitigate(mDropInLink, (*trial).dropInNewLink),
		}
	}
	return []experiments.Mitigation{
		experiments.Mitigate(mReAdd, (*trial).reAddRules),
		experiments.Mitigate(mIpamd, (*trial).restartIpamd),
		experiments.Mitigate(mDropIn, (*trial).dropIn),
		experiments.Mitigate(mUnmanaged, (*trial).unmanaged),
	}
}

// reAddRules adds back the victims' own rules that are missing, as the
// plugin's ADD for a re-created pod would (same rules: read from what it
// installed).
func (t *trial) reAddRules(ctx context.Context, r *experiments.Run) error {
	out, err := r.Agent.Run(ctx, t.node.Name, "ip", "rule", "show")
	if err != nil {
		return err
	}
	// One exec for all of them: rules come back together, not one exec
	// round trip apart.
	if script := addScript(Missing(t.podRules(), ParseRules(out))); script != "" {
		_, err = r.Agent.Run(ctx, t.node.Name, "sh", "-c", script)
	}
	return err
}

// addScript is the shell that adds rules, stopping at the first that
// fails ("" for none).
func addScript(rules []Rule) string {
	var lines []string
	for _, r := range rules {
		lines = append(lines, strings.Join(r.AddArgs(), " "))
	}
	return strings.Join(lines, " && ")
}

// restartIpamd restarts ipamd: on kind the stand-in's unit (waiting until it
// serves), on EKS the node's aws-node container (waiting until ipamd
// serves again).
func (t *trial) restartIpamd(ctx context.Context, r *experiments.Run) error {
	script := ipamdScript(t.vpcCIDRs, true)
	if !t.kind {
		script = restartAWSNode + "\n" + waitIpamd
	}
	_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", script)
	return err
}

// waitIpamd waits up to two minutes for ipamd to serve where the plugin
// dials it, after its container was stopped.
const waitIpamd = `sleep 1; for i in $(seq 1 240); do ss -Hltn 'sport = :50051' | grep -q . && exit 0; sleep 0.5; done; echo "ipamd does not serve on :50051 two minutes after its restart" >&2; exit 1`

func (t *trial) dropIn(ctx context.Context, r *experiments.Run) error {
	_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", dropInScript())
	return err
}

// dropInNewLink is the drop-in, networkd restarted to read it (which with
// the drop-in costs nothing), then another new link.
func (t *trial) dropInNewLink(ctx context.Context, r *experiments.Run) error {
	_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", dropInScript()+"\n"+newLinkScript(hotLink+"1"))
	return err
}

func (t *trial) unmanaged(ctx context.Context, r *experiments.Run) error {
	_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", unmanagedScript(t.cniLinks()))
	return err
}

// cniLinks are the links the VPC CNI configures on the node: the pods' host
// veths (vethPrefix "eni") and the ENIs their tables route by.
func (t *trial) cniLinks() []string {
	links := []string{"eni*"}
	for _, p := range []PodRouting{t.client, t.server} {
		for _, rt := range p.TableRoutes {
			if rt.Dev != "" && !slices.Contains(links, rt.Dev) {
				links = append(links, rt.Dev)
			}
		}
	}
	if t.kind && !slices.Contains(links, eniLink) {
		links = append(links, eniLink)
	}
	return links
}

// podRules are the victims' own rules, as the plugin installed them.
func (t *trial) podRules() []Rule { return append(t.client.Rules(), t.server.Rules()...) }

// Evidence implements experiments.Outage: the node's rules and routes,
// what networkd manages and, on kind, how many packets the stand-in VPC
// dropped because they left by the wrong ENI.
func (t *trial) Evidence(ctx context.Context, r *experiments.Run) []experiments.Evidence {
	cmds := []struct{ name, cmd string }{
		{"ip rule", "ip rule show"},
		{"ip route show table all", "ip route show table all | grep -vE '^(local|broadcast|multicast) |table local|^(fe80|ff00)'"},
		{"networkctl list", "networkctl list --no-pager 2>&1 || true"},
	}
	if t.kind {
		cmds = append(cmds, struct{ name, cmd string }{"stand-in VPC drops (source/destination check)",
			"nft list table ip " + guardTable + " 2>&1 | grep -oE 'packets [0-9]+ bytes [0-9]+ drop comment \"[^\"]*\"' || echo 'no guard table'"})
	}
	var ev []experiments.Evidence
	for _, c := range cmds {
		out, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", c.cmd)
		if err != nil {
			out = "error: " + err.Error()
		}
		e := experiments.Evidence{Name: c.name + " " + t.node.Name, Text: out}
		if c.name == "ip rule" && err == nil {
			e.Shows = t.rulesGone(out)
		}
		ev = append(ev, e)
	}
	return ev
}

// rulesGone names the VPC CNI's rules missing from `ip rule show` output:
// the victims' (the plugin's) and ipamd's; "" when none is.
func (t *trial) rulesGone(out string) string {
	return rulesGone(t.podRules(), t.nodeRules, ParseRules(out))
}

func rulesGone(pod, node, now []Rule) string {
	var parts []string
	for _, g := range []struct {
		what  string
		rules []Rule
	}{{"per-pod ip rules gone", Missing(pod, now)}, {"ipamd's node rules gone", Missing(node, now)}} {
		if len(g.rules) == 0 {
			continue
		}
		var s []string
		for _, r := range g.rules {
			s = append(s, r.String())
		}
		parts = append(parts, g.what+": "+strings.Join(s, ", "))
	}
	return strings.Join(parts, "; ")
}

// Expectations implements experiments.Experiment.
func (x *Restart) Expectations(env experiments.Environment) []experiments.Expect {
	if x.newLink {
		return experiments.Lookup(expectedNewLink, env)
	}
	return experiments.Lookup(expected, env)
}

// Recover implements experiments.Recoverer: the VPC CNI's pods go first
// (their probes stop before the stand-in VPC's drop is lifted, and on EKS
// the plugin's DEL removes their rules), then the restore scripts run now
// (the timers would have run them at the deadline) on both nodes.
func (t *trial) Recover(ctx context.Context, r *experiments.Run) error {
	errs := []error{t.deletePods(ctx, r, t.awsPods)}
	// /run is mounted noexec on nodes: test for the file and run it with sh.
	if _, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", "[ ! -f "+restore+" ] || sh "+restore); err != nil {
		errs = append(errs, fmt.Errorf("restore %s: %w", t.node.Name, err))
	}
	if t.peer.Name != "" {
		if _, err := r.Agent.Host(ctx, t.peer.Name, "sh", "-c", "[ ! -f "+peerRestore+" ] || sh "+peerRestore); err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", t.peer.Name, err))
		}
	}
	return errors.Join(errs...)
}

// newLinkInfo is the new-link trigger's Info.
func (x *Restart) newLinkInfo() experiments.Info {
	i := restartInfo(x.Name())
	i.Title = "T3 a new networkd-managed link (ENI hot-attach) flushes the VPC CNI's per-pod ip rules"
	i.Trigger = "a new link appears that systemd-networkd manages (veth " + hotLink + "0, udev-initialised)"
	i.Sources = append([]string{"aws/amazon-vpc-cni-k8s#1600"}, i.Sources...)
	i.Plan = []string{
		i.Plan[0], i.Plan[1], i.Plan[2] + "; systemd-networkd started before the stand-in ipamd and the victims (kind nodes do not run it)", i.Plan[3],
		"fault: veth " + hotLink + "0 created with its udev database entry; networkd configures it (node-disruptive)",
		"mitigations: re-add the pods' rules 512 and 1536 as CNI ADD does; restart ipamd (the stand-in's unit); networkd drop-in ManageForeign*=no, networkd restarted to read it, then a second new link " + hotLink + "1",
	}
	i.Mechanism.Name = "systemd-networkd removes the VPC CNI's ip rules when it configures a new link (ManageForeignRoutingPolicyRules=yes)"
	i.Mechanism.Source = "aws/amazon-vpc-cni-k8s#1600"
	return i
}
