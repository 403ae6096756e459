package main

import (
	"context"
	"fmt"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// want is what up was asked for: a running cluster is reused only when it
// is exactly this.
type want struct {
	version, mode string
	nodes         int // the kind config's nodes
}

// nodeFacts is what the decisions need from one Node (what cluster.sh read
// from kubectl get nodes' STATUS and VERSION columns).
type nodeFacts struct {
	name          string
	ready         bool   // condition Ready is True
	unschedulable bool   // cordoned: kubectl shows Ready,SchedulingDisabled
	version       string // status.nodeInfo.kubeletVersion
	notReady      string // when not ready: the Ready condition's reason, if any
}

// clusterFacts is what the reuse decision reads from a running cluster.
type clusterFacts struct {
	nodes     []nodeFacts
	proxyMode string // kube-proxy's ConfigMap, config.conf's mode
}

func factsOf(n *corev1.Node) nodeFacts {
	f := nodeFacts{name: n.Name, unschedulable: n.Spec.Unschedulable, version: n.Status.NodeInfo.KubeletVersion, notReady: "no Ready condition"}
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		f.ready = c.Status == corev1.ConditionTrue
		f.notReady = string(c.Status)
		if c.Reason != "" {
			f.notReady += " (" + c.Reason + ")"
		}
	}
	return f
}

// reusable is up's decision on a cluster that exists: reuse it (true), or
// delete and re-create it, for the reason given. Reused: every node Ready and
// not cordoned (kubectl's STATUS exactly Ready, as cluster.sh required), each
// running the requested version, kube-proxy's ConfigMap the requested mode,
// and (new) as many nodes as the kind config has (a worker that never joined).
func reusable(w want, f clusterFacts) (bool, string) {
	if len(f.nodes) == 0 {
		return false, "it has no nodes"
	}
	if len(f.nodes) != w.nodes {
		return false, fmt.Sprintf("it has %d nodes, the kind config %d", len(f.nodes), w.nodes)
	}
	for _, n := range f.nodes {
		switch {
		case !n.ready:
			return false, fmt.Sprintf("node %s is not Ready: %s", n.name, n.notReady)
		case n.unschedulable:
			return false, fmt.Sprintf("node %s is cordoned (SchedulingDisabled)", n.name)
		case n.version != w.version:
			return false, fmt.Sprintf("node %s runs %s, not %s", n.name, n.version, w.version)
		}
	}
	if f.proxyMode != w.mode {
		return false, fmt.Sprintf("kube-proxy runs mode %q, not %q", f.proxyMode, w.mode)
	}
	return true, ""
}

// proxyMode is the mode in kube-proxy's configuration file (the kube-system/kube-proxy
// ConfigMap's config.conf, a KubeProxyConfiguration that kubeadm writes).
func proxyMode(configConf string) (string, error) {
	var c struct {
		Mode string `yaml:"mode"`
	}
	if err := yaml.Unmarshal([]byte(configConf), &c); err != nil {
		return "", fmt.Errorf("kube-proxy's config.conf: %s", oneLine(err.Error()))
	}
	return c.Mode, nil
}

// observe reads the facts from the cluster's API server. An error (API server
// not answering, no kube-proxy ConfigMap) means the cluster is not reusable.
func observe(ctx context.Context, cs kubernetes.Interface) (clusterFacts, error) {
	var f clusterFacts
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return f, fmt.Errorf("listing nodes: %w", err)
	}
	for i := range nodes.Items {
		f.nodes = append(f.nodes, factsOf(&nodes.Items[i]))
	}
	cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{})
	if err != nil {
		return f, fmt.Errorf("kube-proxy's ConfigMap: %w", err)
	}
	conf, ok := cm.Data["config.conf"]
	if !ok {
		return f, fmt.Errorf("kube-proxy's ConfigMap has no config.conf")
	}
	f.proxyMode, err = proxyMode(conf)
	return f, err
}

// decide is the reuse decision on a running cluster, reading its facts first.
func decide(ctx context.Context, cs kubernetes.Interface, w want) (bool, string) {
	f, err := observe(ctx, cs)
	if err != nil {
		return false, oneLine(err.Error())
	}
	return reusable(w, f)
}
