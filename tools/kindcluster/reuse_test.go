package main

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func ready(name, version string) nodeFacts {
	return nodeFacts{name: name, ready: true, version: version}
}

func TestReusable(t *testing.T) {
	w := want{version: "v1.34.2", mode: "iptables", nodes: 3}
	good := []nodeFacts{ready("cp", "v1.34.2"), ready("w1", "v1.34.2"), ready("w2", "v1.34.2")}
	with := func(i int, f func(*nodeFacts)) []nodeFacts {
		n := append([]nodeFacts(nil), good...)
		f(&n[i])
		return n
	}
	for _, c := range []struct {
		name  string
		facts clusterFacts
		why   string // "" = reused
	}{
		{"as asked", clusterFacts{good, "iptables"}, ""},
		{"no nodes", clusterFacts{nil, "iptables"}, "it has no nodes"},
		{"a worker never joined", clusterFacts{good[:2], "iptables"}, "it has 2 nodes, the kind config 3"},
		{"more nodes than the config", clusterFacts{append(good, ready("w3", "v1.34.2")), "iptables"}, "it has 4 nodes, the kind config 3"},
		{"not ready", clusterFacts{with(1, func(n *nodeFacts) { n.ready, n.notReady = false, "False (KubeletNotReady)" }), "iptables"},
			"node w1 is not Ready: False (KubeletNotReady)"},
		{"cordoned", clusterFacts{with(2, func(n *nodeFacts) { n.unschedulable = true }), "iptables"}, "node w2 is cordoned"},
		{"another release", clusterFacts{with(0, func(n *nodeFacts) { n.version = "v1.30.4" }), "iptables"}, "node cp runs v1.30.4, not v1.34.2"},
		{"a pre-release is not the release", clusterFacts{with(0, func(n *nodeFacts) { n.version = "v1.34.2-rc.0" }), "iptables"}, "runs v1.34.2-rc.0"},
		{"another mode", clusterFacts{good, "nftables"}, `kube-proxy runs mode "nftables", not "iptables"`},
		{"no mode in the config map", clusterFacts{good, ""}, `kube-proxy runs mode "", not "iptables"`},
	} {
		ok, why := reusable(w, c.facts)
		if ok != (c.why == "") || (c.why != "" && !strings.Contains(why, c.why)) {
			t.Errorf("%s: reusable = %v, %q; want %q", c.name, ok, why, c.why)
		}
	}
}

func TestProxyMode(t *testing.T) {
	for conf, want := range map[string]string{
		"apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nclusterCIDR: 10.244.0.0/16\n": "nftables",
		"kind: KubeProxyConfiguration\nmode: iptables\n":   "iptables",
		"kind: KubeProxyConfiguration\nmode: \"\"\n":       "",
		"kind: KubeProxyConfiguration\nipvs:\n  mode: x\n": "", // only the top-level mode
	} {
		got, err := proxyMode(conf)
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", conf, got, err, want)
		}
	}
	if _, err := proxyMode("mode: [iptables\n"); err == nil {
		t.Error("no error for bad YAML")
	}
}

func node(name, version string, ready corev1.ConditionStatus, reason string, cordoned bool) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.NodeSpec{Unschedulable: cordoned},
		Status: corev1.NodeStatus{
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: version},
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
				{Type: corev1.NodeReady, Status: ready, Reason: reason},
			},
		},
	}
}

func kubeProxyCM(mode string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy", Namespace: "kube-system"},
		Data: map[string]string{
			"config.conf":     "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: " + mode + "\n",
			"kubeconfig.conf": "apiVersion: v1\nkind: Config\n",
		},
	}
}

func TestFactsOf(t *testing.T) {
	f := factsOf(node("w1", "v1.34.2", corev1.ConditionFalse, "KubeletNotReady", true))
	if f != (nodeFacts{name: "w1", ready: false, unschedulable: true, version: "v1.34.2", notReady: "False (KubeletNotReady)"}) {
		t.Errorf("%+v", f)
	}
	f = factsOf(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "new"}})
	if f.ready || f.notReady != "no Ready condition" {
		t.Errorf("%+v", f)
	}
}

// The facts as client-go reads them: nodes' Ready condition, cordon and
// kubelet version, and kube-proxy's mode from its ConfigMap.
func TestDecideFromTheAPI(t *testing.T) {
	w := want{version: "v1.34.2", mode: "nftables", nodes: 2}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		objs []any
		why  string
	}{
		{"reused", []any{node("cp", "v1.34.2", corev1.ConditionTrue, "", false), node("w", "v1.34.2", corev1.ConditionTrue, "", false), kubeProxyCM("nftables")}, ""},
		{"mode", []any{node("cp", "v1.34.2", corev1.ConditionTrue, "", false), node("w", "v1.34.2", corev1.ConditionTrue, "", false), kubeProxyCM("iptables")}, `mode "iptables"`},
		{"unknown", []any{node("cp", "v1.34.2", corev1.ConditionTrue, "", false), node("w", "v1.34.2", corev1.ConditionUnknown, "NodeStatusUnknown", false), kubeProxyCM("nftables")}, "node w is not Ready: Unknown (NodeStatusUnknown)"},
		{"no kube-proxy", []any{node("cp", "v1.34.2", corev1.ConditionTrue, "", false), node("w", "v1.34.2", corev1.ConditionTrue, "", false)}, "kube-proxy's ConfigMap: "},
	} {
		cs := fake.NewClientset()
		for _, o := range c.objs {
			var err error
			switch o := o.(type) {
			case *corev1.Node:
				_, err = cs.CoreV1().Nodes().Create(ctx, o, metav1.CreateOptions{})
			case *corev1.ConfigMap:
				_, err = cs.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		ok, why := decide(ctx, cs, w)
		if ok != (c.why == "") || !strings.Contains(why, c.why) {
			t.Errorf("%s: %v %q, want %q", c.name, ok, why, c.why)
		}
	}
}
