// Package networkdrestart is trigger T3: systemd-networkd (>= v248) removes
// routing-policy rules and routes it did not create when it (re)starts
// (ManageForeignRoutingPolicyRules=yes and ManageForeignRoutes=yes are the
// defaults). The AWS VPC CNI keeps per-pod rules
// ("from <podIP> lookup <eni table>"); after a networkd restart — an
// unattended upgrade is enough — they are gone, pod egress falls back to the
// main table and leaves through the wrong interface, and nothing restores the
// rules until the pod is re-created. Upstream: aws/amazon-vpc-cni-k8s#3309,
// kubernetes/kops#17433 (2025 outage); fixes are networkd drop-ins (kops
// #17438, amazon-eks-ami #1539, bottlerocket #3437).
//
// On kind there is no VPC: the experiment installs an ENI-like policy-routing
// setup for one pod — its egress to a "VPC-only" address (198.51.100.10,
// TEST-NET-2, held by the other worker) routed by a per-pod rule and table,
// a link networkd manages, and an nftables drop for packets to that address
// that take the main table's route, standing in for the VPC's drop (see
// standInScript) — so networkd's flush happens for real and no packet
// leaves the cluster.
package networkdrestart

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// Addresses and numbers of the ENI-like setup.
const (
	vpcAddr  = "198.51.100.10" // TEST-NET-2: never routed anywhere real
	vpcPort  = 9000
	eniTable = "1001"
	// Deadline bounds the fault: the pod stops sending then, and a minute
	// later a transient systemd timer on the node runs the restore script,
	// even if the runner died.
	Deadline = 10 * time.Minute
)

// Restart is the experiment.
type Restart struct{}

// trial is one run: the node whose networkd restarts, the peer that holds
// the stand-in VPC address, and the victim pod's address.
type trial struct {
	node, peer experiments.Node
	podIP      string
}

var (
	_ experiments.Mitigator = (*Restart)(nil)
	_ experiments.Outage    = (*trial)(nil)
	_ experiments.Recoverer = (*trial)(nil)
)

// New returns the experiment.
func New() *Restart { return &Restart{} }

// Name implements experiments.Experiment.
func (x *Restart) Name() string { return "networkd-restart" }

// Info implements experiments.Experiment.
func (x *Restart) Info() experiments.Info {
	return experiments.Info{
		Title:   "T3 systemd-networkd restart flushes the CNI's per-pod ip rules",
		Trigger: "systemctl restart systemd-networkd on the node",
		Sources: []string{"aws/amazon-vpc-cni-k8s#3309", "kubernetes/kops#17433", "kubernetes/kops#17438", "awslabs/amazon-eks-ami#1539"},
		Plan: []string{
			"namespace netchaos-networkd-restart-<run> with janitor and privileged node-agent DaemonSet",
			"NODE CHANGES on the first worker: ip rules pref 512/1536, table " + eniTable + ", veth " + eniLink + " managed by networkd, nftables table " + guardTable + " dropping " + vpcAddr + " off the ENI path, a writable sysfs bound over /sys for networkd alone and a udev database entry for ncx-eni (kind has no udev); a transient systemd timer restores the node after " + Deadline.String(),
			"NODE CHANGES on the second worker: address " + vpcAddr + "/32 on eth0 (the stand-in VPC service)",
			"fault: systemctl restart systemd-networkd on the first worker (node-disruptive)",
			"mitigations: re-add the pod rules; networkd drop-in ManageForeign*=no + restart",
		},
	}
}

// Applies implements experiments.Experiment. On kind the ENI-like setup is
// installed; on other clusters observing the real CNI's rules is not built yet.
func (x *Restart) Applies(env experiments.Environment) (bool, string) {
	if env.Provider != "kind" {
		return false, "on " + env.Provider + " this experiment would restart networkd under the real CNI's rules; that mode is not implemented yet"
	}
	if len(env.Workers()) < 2 {
		return false, "needs two worker nodes"
	}
	return true, ""
}

// Setup implements experiments.Experiment: check networkd, snapshot the
// node, arm the node-side restore timer, start the "VPC" echo on the peer,
// the victim pod on the node, and its policy routing.
func (x *Restart) Setup(ctx context.Context, r *experiments.Run) (experiments.Trial, error) {
	w := r.Cluster.Workers()
	t := &trial{node: w[0], peer: w[1]}
	if _, err := r.Agent.Host(ctx, t.node.Name, "systemctl", "cat", "systemd-networkd.service"); err != nil {
		return t, experiments.NotApplicable("node %s has no systemd-networkd", t.node.Name)
	}
	if err := t.arm(ctx, r); err != nil {
		return t, err
	}
	if _, err := r.Agent.Host(ctx, t.peer.Name, "sh", "-c", peerScript()); err != nil {
		return t, fmt.Errorf("vpc address on %s: %w", t.peer.Name, err)
	}
	// The stand-ins (with the VPC's drop) go in before the pod starts
	// sending: without the drop the node's default route would carry the
	// probes off the cluster.
	if _, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", standInScript(t.peer.IP)); err != nil {
		return t, fmt.Errorf("stand-ins on %s: %w", t.node.Name, err)
	}
	if err := t.pods(ctx, r); err != nil {
		return t, err
	}
	for _, c := range t.eniCommands() {
		if _, err := r.Agent.Run(ctx, t.node.Name, c...); err != nil {
			return t, fmt.Errorf("policy routing on %s: %w", t.node.Name, err)
		}
	}
	r.WantFlows(2)
	return t, nil
}

// eniCommands install what the VPC CNI installs for a pod on a secondary ENI.
func (t *trial) eniCommands() [][]string {
	return [][]string{
		{"ip", "route", "replace", vpcAddr + "/32", "via", t.peer.IP, "dev", "eth0", "table", eniTable},
		{"ip", "rule", "add", "pref", "512", "to", t.podIP, "lookup", "main"},
		{"ip", "rule", "add", "pref", "1536", "from", t.podIP, "lookup", eniTable},
	}
}

// arm runs armScript on the node: snapshot, restore script, timer.
func (t *trial) arm(ctx context.Context, r *experiments.Run) error {
	active, _ := r.Agent.Host(ctx, t.node.Name, "sh", "-c", "systemctl is-active systemd-networkd || true")
	if _, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", armScript(strings.TrimSpace(active) == "active")); err != nil {
		return fmt.Errorf("arm restore on %s: %w", t.node.Name, err)
	}
	return nil
}

func (t *trial) pods(ctx context.Context, r *experiments.Run) error {
	ns := r.Namespace
	target := fmt.Sprintf("%s:%d", vpcAddr, vpcPort)
	args, err := probe.Args(r.FlowOptions,
		probe.Flow{Name: "egress-udp", Mode: probe.UDPPinned, Target: target},
		probe.Flow{Name: "egress-tcp", Mode: probe.TCPNew, Target: target})
	if err != nil {
		return err
	}
	vpc := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "vpc-service", Namespace: ns, Labels: r.Labels("vpc-service")},
		Spec: corev1.PodSpec{NodeName: t.peer.Name, HostNetwork: true, TerminationGracePeriodSeconds: ptr.To[int64](1),
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers:  []corev1.Container{r.Container("echo", "echo", "--udp", target, "--tcp", target, "--pod", "vpc-service")}},
	}
	victim := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "eni-pod", Namespace: ns, Labels: r.Labels(experiments.RoleClient)},
		Spec: corev1.PodSpec{NodeName: t.node.Name, TerminationGracePeriodSeconds: ptr.To[int64](1),
			// Stops sending before the node-side restore lifts the VPC drop.
			ActiveDeadlineSeconds: ptr.To(int64(Deadline.Seconds())),
			Containers:            []corev1.Container{r.Container("probe", args...)}},
	}
	for _, p := range []*corev1.Pod{vpc, victim} {
		if _, err := r.Kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create pod %s: %w", p.Name, err)
		}
	}
	got, err := kube.ReadyPods(ctx, r.Kube, ns, experiments.LabelRole+"="+experiments.RoleClient, 1)
	if err != nil {
		return err
	}
	t.podIP = got[0].Status.PodIP
	_, err = kube.ReadyPods(ctx, r.Kube, ns, experiments.LabelRole+"=vpc-service", 1)
	return err
}

// Inject implements experiments.Outage.
func (t *trial) Inject(ctx context.Context, r *experiments.Run) error {
	_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", networkdCmd)
	return err
}

// Mitigations implements experiments.Mitigator: first what the CNI does on
// pod re-creation (re-add the rules); then the known fix — the drop-in — and
// the same restart again, which should now cost nothing.
func (x *Restart) Mitigations() []experiments.Mitigation {
	return []experiments.Mitigation{
		experiments.Mitigate("re-add pod rules", (*trial).reAddRules),
		experiments.Mitigate("drop-in + restart networkd", (*trial).dropIn),
	}
}

func (t *trial) reAddRules(ctx context.Context, r *experiments.Run) error {
	for _, c := range t.eniCommands()[1:] {
		r.Agent.Run(ctx, t.node.Name, c...) // "File exists" when networkd left it: fine
	}
	return nil
}

func (t *trial) dropIn(ctx context.Context, r *experiments.Run) error {
	_, err := r.Agent.Host(ctx, t.node.Name, "sh", "-c", dropInScript())
	return err
}

// Evidence implements experiments.Outage: the node's rules and routes,
// what networkd manages, and how many packets the stand-in VPC dropped
// because they left by the main table's route.
func (t *trial) Evidence(ctx context.Context, r *experiments.Run) []experiments.Evidence {
	cmds := []struct{ name, cmd string }{
		{"ip rule", "ip rule show"},
		{"ip route show table all", "ip route show table all | grep -vE '^(local|broadcast) |table local'"},
		{"networkctl list", "networkctl list --no-pager 2>&1 || true"},
		{"stand-in VPC drops (wrong ENI)", "nft list table ip " + guardTable + " 2>&1 | grep -o 'packets [0-9]* bytes [0-9]*' || echo 'no guard table'"},
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

// rulesGone names the pod's policy rules missing from `ip rule show` output
// ("" when both are there): the mechanism, networkd flushing foreign rules.
func (t *trial) rulesGone(rules string) string {
	var gone []string
	for _, want := range []string{"512:\tfrom all to " + t.podIP + " lookup main", "1536:\tfrom " + t.podIP + " lookup " + eniTable} {
		if t.podIP != "" && !strings.Contains(rules, want) {
			gone = append(gone, strings.ReplaceAll(want, "\t", " "))
		}
	}
	if len(gone) == 0 {
		return ""
	}
	return "per-pod ip rules gone: " + strings.Join(gone, "; ")
}

// Expectations implements experiments.Experiment.
func (x *Restart) Expectations(env experiments.Environment) []experiments.Expect {
	return experiments.Lookup(expected, env)
}

var expected = []experiments.Rule{{Expect: []experiments.Expect{
	{Flow: "*/egress-*", Outcome: experiments.Never, Source: "aws/amazon-vpc-cni-k8s#3309: the CNI re-adds rules only on CNI ADD"},
	{Marker: "re-add pod rules", Flow: "*/egress-*", Outcome: experiments.Recovers, Within: 2 * time.Second, Source: "rules back: the ENI table routes again"},
	{Marker: "drop-in + restart networkd", Flow: "*/egress-*", Outcome: experiments.NoOutage, Source: "ManageForeignRoutingPolicyRules=no (kops#17438, amazon-eks-ami#1539)"},
}}}

// Recover implements experiments.Recoverer: run the restore scripts now
// (the timers would have run them at the deadline) on both nodes.
func (t *trial) Recover(ctx context.Context, r *experiments.Run) error {
	var errs []error
	// The pod stops sending first: once the stand-in VPC drop is lifted, its
	// probes would follow the node's default route off the cluster.
	pods := r.Kube.CoreV1().Pods(r.Namespace)
	if err := pods.Delete(ctx, "eni-pod", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err == nil {
		errs = append(errs, kube.Gone(ctx, func(ctx context.Context) error { _, err := pods.Get(ctx, "eni-pod", metav1.GetOptions{}); return err }))
	}
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
