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
// and a blackhole for that address in the main table standing in for the
// VPC's drop — so the mechanism is exercised for real and no packet leaves
// the cluster.
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
	"github.com/netchaos/netchaos/experiments/probe"
)

// Addresses and numbers of the ENI-like setup.
const (
	vpcAddr  = "198.51.100.10" // TEST-NET-2: never routed anywhere real
	vpcPort  = 9000
	eniTable = "1001"
	dropIn   = "/etc/systemd/networkd.conf.d/80-netchaos-keep-foreign.conf"
	restore  = "/run/netchaos-t3-restore.sh"
	// Deadline bounds the fault: the pod stops sending then, and a minute
	// later a transient systemd timer on the node runs the restore script,
	// even if the runner died.
	Deadline = 10 * time.Minute
)

// Restart is the experiment.
type Restart struct {
	node, peer experiments.Node
	podIP      string
}

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
			"NODE CHANGES on the first worker: ip rules pref 512/1536, table " + eniTable + ", blackhole " + vpcAddr + "; a transient systemd timer restores the node after " + Deadline.String(),
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
func (x *Restart) Setup(ctx context.Context, r *experiments.Run) error {
	w := r.Cluster.Workers()
	x.node, x.peer = w[0], w[1]
	if _, err := r.Agent.Host(ctx, x.node.Name, "systemctl", "cat", "systemd-networkd.service"); err != nil {
		return fmt.Errorf("%w: node %s has no systemd-networkd", experiments.ErrNotApplicable, x.node.Name)
	}
	if err := x.arm(ctx, r); err != nil {
		return err
	}
	if _, err := r.Agent.Run(ctx, x.peer.Name, "ip", "addr", "replace", vpcAddr+"/32", "dev", "eth0"); err != nil {
		return fmt.Errorf("vpc address on %s: %w", x.peer.Name, err)
	}
	// The blackhole goes in before the pod starts sending: without it the
	// node's default route would carry the probes off the cluster.
	if _, err := r.Agent.Run(ctx, x.node.Name, x.eniCommands()[1]...); err != nil {
		return fmt.Errorf("blackhole on %s: %w", x.node.Name, err)
	}
	if err := x.pods(ctx, r); err != nil {
		return err
	}
	for _, c := range x.eniCommands() {
		if _, err := r.Agent.Run(ctx, x.node.Name, c...); err != nil {
			return fmt.Errorf("policy routing on %s: %w", x.node.Name, err)
		}
	}
	r.WantFlows(2)
	return nil
}

// eniCommands install what the VPC CNI installs for a pod on a secondary ENI.
func (x *Restart) eniCommands() [][]string {
	return [][]string{
		{"ip", "route", "replace", vpcAddr + "/32", "via", x.peer.IP, "dev", "eth0", "table", eniTable},
		{"ip", "route", "replace", "blackhole", vpcAddr + "/32"},
		{"ip", "rule", "add", "pref", "512", "to", x.podIP, "lookup", "main"},
		{"ip", "rule", "add", "pref", "1536", "from", x.podIP, "lookup", eniTable},
	}
}

// arm snapshots rules and routes, writes the restore script to the node and
// schedules it as a transient timer: the fault's time limit, enforced on the
// node itself.
func (x *Restart) arm(ctx context.Context, r *experiments.Run) error {
	active, _ := r.Agent.Host(ctx, x.node.Name, "sh", "-c", "systemctl is-active systemd-networkd || true")
	script := restoreScript(strings.TrimSpace(active) == "active")
	cmd := fmt.Sprintf(`set -e
systemctl stop netchaos-t3-restore.timer 2>/dev/null || true
ip rule show > /run/netchaos-t3-rules.before
ip route show table all | grep -vE '^(local|broadcast) |table local' > /run/netchaos-t3-routes.before
cat > %[1]s <<'SCRIPT'
%[2]s
SCRIPT
systemd-run --unit netchaos-t3-restore --on-active=%[3]d --timer-property=AccuracySec=1s /bin/sh %[1]s >/dev/null`, restore, script, int((Deadline + time.Minute).Seconds()))
	if _, err := r.Agent.Host(ctx, x.node.Name, "sh", "-c", cmd); err != nil {
		return fmt.Errorf("arm restore on %s: %w", x.node.Name, err)
	}
	return nil
}

// restoreScript puts the node back exactly as the snapshot had it: our rules
// and routes gone, every rule and route networkd removed re-added, the
// drop-in removed, networkd stopped again if it was not running.
func restoreScript(networkdWasActive bool) string {
	stop := "systemctl stop systemd-networkd.service systemd-networkd.socket 2>/dev/null || true"
	if networkdWasActive {
		stop = "systemctl restart systemd-networkd.service || true"
	}
	return fmt.Sprintf(`#!/bin/sh
# netchaos T3: restore the node's routing state (idempotent).
while ip rule del pref 1536 table %[1]s 2>/dev/null; do :; done
while ip rule del pref 512 lookup main 2>/dev/null; do :; done
ip route flush table %[1]s 2>/dev/null || true
ip route del blackhole %[2]s/32 2>/dev/null || true
rm -f %[3]s
%[4]s
ip rule show > /run/netchaos-t3-rules.now
while IFS= read -r line; do
  grep -qxF "$line" /run/netchaos-t3-rules.now || ip rule add pref "${line%%%%:*}" ${line#*:} || true
done < /run/netchaos-t3-rules.before
ip route show table all > /run/netchaos-t3-routes.now
while IFS= read -r line; do
  grep -qxF "$line" /run/netchaos-t3-routes.now || ip route replace $line || true
done < /run/netchaos-t3-routes.before
systemctl stop netchaos-t3-restore.timer 2>/dev/null || true
rm -f /run/netchaos-t3-*
`, eniTable, vpcAddr, dropIn, stop)
}

func (x *Restart) pods(ctx context.Context, r *experiments.Run) error {
	ns := r.Namespace
	target := fmt.Sprintf("%s:%d", vpcAddr, vpcPort)
	vpc := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "vpc-service", Namespace: ns, Labels: r.Labels("vpc-service")},
		Spec: corev1.PodSpec{NodeName: x.peer.Name, HostNetwork: true, TerminationGracePeriodSeconds: ptr.To[int64](1),
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers:  []corev1.Container{r.Container("echo", "echo", "--udp", target, "--tcp", target, "--pod", "vpc-service")}},
	}
	victim := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "eni-pod", Namespace: ns, Labels: r.Labels(experiments.RoleClient)},
		Spec: corev1.PodSpec{NodeName: x.node.Name, TerminationGracePeriodSeconds: ptr.To[int64](1),
			// Stops sending before the node-side restore lifts the blackhole.
			ActiveDeadlineSeconds: ptr.To(int64(Deadline.Seconds())),
			Containers: []corev1.Container{r.Container("probe", probe.Args(r.FlowOptions,
				probe.Flow{Name: "egress-udp", Mode: probe.UDPPinned, Target: target},
				probe.Flow{Name: "egress-tcp", Mode: probe.TCPNew, Target: target})...)}},
	}
	for _, p := range []*corev1.Pod{vpc, victim} {
		if _, err := r.Kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create pod %s: %w", p.Name, err)
		}
	}
	got, err := r.ReadyPods(ctx, ns, experiments.LabelRole+"="+experiments.RoleClient, 1)
	if err != nil {
		return err
	}
	x.podIP = got[0].Status.PodIP
	_, err = r.ReadyPods(ctx, ns, experiments.LabelRole+"=vpc-service", 1)
	return err
}

// Inject implements experiments.Experiment.
func (x *Restart) Inject(ctx context.Context, r *experiments.Run) error {
	_, err := r.Agent.Host(ctx, x.node.Name, "systemctl", "restart", "systemd-networkd")
	return err
}

// Mitigations implements experiments.Experiment: first what the CNI does on
// pod re-creation (re-add the rules); then the known fix — the drop-in — and
// the same restart again, which should now cost nothing.
func (x *Restart) Mitigations() []experiments.Mitigation {
	return []experiments.Mitigation{
		{Name: "re-add pod rules", Apply: func(ctx context.Context, r *experiments.Run) error {
			for _, c := range x.eniCommands()[2:] {
				r.Agent.Run(ctx, x.node.Name, c...) // "File exists" when networkd left it: fine
			}
			return nil
		}},
		{Name: "drop-in + restart networkd", Apply: func(ctx context.Context, r *experiments.Run) error {
			cmd := fmt.Sprintf("mkdir -p /etc/systemd/networkd.conf.d && printf '[Network]\\nManageForeignRoutingPolicyRules=no\\nManageForeignRoutes=no\\n' > %s && systemctl restart systemd-networkd", dropIn)
			_, err := r.Agent.Host(ctx, x.node.Name, "sh", "-c", cmd)
			return err
		}},
	}
}

// Evidence implements experiments.Experiment.
func (x *Restart) Evidence(ctx context.Context, r *experiments.Run) []experiments.Evidence {
	rules, err := r.Agent.Run(ctx, x.node.Name, "ip", "rule", "show")
	if err != nil {
		rules = "error: " + err.Error()
	}
	routes, err := r.Agent.Run(ctx, x.node.Name, "sh", "-c", "ip route show table all | grep -vE '^(local|broadcast) |table local'")
	if err != nil {
		routes = "error: " + err.Error()
	}
	return []experiments.Evidence{{Name: "ip rule " + x.node.Name, Text: rules}, {Name: "ip route show table all " + x.node.Name, Text: routes}}
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

// Recover implements experiments.Experiment: run the restore script now
// (the timer would have run it at the deadline) and remove the peer's address.
func (x *Restart) Recover(ctx context.Context, r *experiments.Run) error {
	if x.node.Name == "" {
		return nil
	}
	var errs []error
	// The pod stops sending first: once the blackhole is lifted, its probes
	// would follow the node's default route off the cluster.
	pods := r.Kube.CoreV1().Pods(r.Namespace)
	if err := pods.Delete(ctx, "eni-pod", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err == nil {
		errs = append(errs, r.Gone(ctx, func(ctx context.Context) error { _, err := pods.Get(ctx, "eni-pod", metav1.GetOptions{}); return err }))
	}
	// /run is mounted noexec on nodes: test for the file and run it with sh.
	if _, err := r.Agent.Host(ctx, x.node.Name, "sh", "-c", "[ ! -f "+restore+" ] || sh "+restore); err != nil {
		errs = append(errs, fmt.Errorf("restore %s: %w", x.node.Name, err))
	}
	if x.peer.Name != "" {
		r.Agent.Run(ctx, x.peer.Name, "ip", "addr", "del", vpcAddr+"/32", "dev", "eth0")
	}
	return errors.Join(errs...)
}
