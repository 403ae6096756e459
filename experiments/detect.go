package experiments

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Environment is the fingerprint of the cluster under test: what the
// expected-outcome tables are keyed by.
type Environment struct {
	Provider          string `json:"provider"` // kind, eks, ack, gke, unknown
	KubernetesVersion string `json:"kubernetes_version"`
	Minor             int    `json:"minor"`
	KubeProxyMode     string `json:"kube_proxy_mode"` // iptables, nftables, ipvs, none
	CNI               string `json:"cni"`
	NodeOS            string `json:"node_os"`
	Kernel            string `json:"kernel"`
	Nodes             []Node `json:"nodes"`
	// AllNodes is how many nodes the cluster has when Nodes is a sample
	// (see Sample); 0 when Nodes are all of them.
	AllNodes int      `json:"all_nodes,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	// Lab describes the lab profile a kind cluster is in (tools/cluster/lab.sh
	// records it in ConfigMap kube-system/netchaos-lab) when that is not the
	// default: a positive control or its fixed twin, not a release setup.
	Lab string `json:"lab,omitempty"`
}

// LabConfigMap is where the kind lab records its profile.
const LabConfigMap = "netchaos-lab"

// Node is one node of the cluster.
type Node struct {
	Name         string            `json:"name"`
	IP           string            `json:"ip"`
	PodCIDR      string            `json:"pod_cidr,omitempty"`
	ControlPlane bool              `json:"control_plane,omitempty"`
	Zone         string            `json:"zone,omitempty"`
	Labels       map[string]string `json:"-"`
}

// Workers are the nodes that run ordinary pods.
func (e Environment) Workers() []Node {
	var w []Node
	for _, n := range e.Nodes {
		if !n.ControlPlane {
			w = append(w, n)
		}
	}
	return w
}

// cniDaemonSets maps a kube-system DaemonSet name prefix to the CNI it marks.
var cniDaemonSets = []struct{ prefix, cni string }{
	{"calico-node", "calico"}, {"cilium", "cilium"}, {"aws-node", "aws-vpc-cni"},
	{"kindnet", "kindnet"}, {"kube-flannel", "flannel"}, {"terway", "terway"}, {"weave", "weave"},
	{"netchaos-cni", "netchaos-static (ptp+portmap)"},
}

var minorRe = regexp.MustCompile(`^v?1\.(\d+)`)

// Detect fingerprints the cluster. It only reads.
func (e *Env) Detect(ctx context.Context) (Environment, error) {
	var env Environment
	v, err := e.Kube.Discovery().ServerVersion()
	if err != nil {
		return env, fmt.Errorf("server version: %w", err)
	}
	env.KubernetesVersion = v.GitVersion
	if m := minorRe.FindStringSubmatch(v.GitVersion); m != nil {
		fmt.Sscan(m[1], &env.Minor)
	}
	nodes, err := e.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return env, fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes.Items {
		env.Nodes = append(env.Nodes, nodeOf(n))
		if env.NodeOS == "" {
			env.NodeOS, env.Kernel = n.Status.NodeInfo.OSImage, n.Status.NodeInfo.KernelVersion
		}
		if env.Provider == "" {
			env.Provider = providerOf(n.Spec.ProviderID)
		}
	}
	if env.Provider == "unknown" && strings.HasPrefix(e.Context, "kind-") {
		env.Provider = "kind" // kind sets no providerID; its contexts are kind-<name>
	}
	env.KubeProxyMode = e.kubeProxyMode(ctx)
	env.CNI = "unknown"
	if ds, err := e.Kube.AppsV1().DaemonSets("kube-system").List(ctx, metav1.ListOptions{}); err == nil {
	found:
		for _, d := range ds.Items {
			for _, c := range cniDaemonSets {
				if strings.HasPrefix(d.Name, c.prefix) {
					env.CNI = c.cni
					break found
				}
			}
		}
	}
	if env.CNI == "unknown" && env.Provider == "kind" {
		env.CNI = "netchaos-static (ptp+portmap)"
	}
	if cm, err := e.Kube.CoreV1().ConfigMaps("kube-system").Get(ctx, LabConfigMap, metav1.GetOptions{}); err == nil {
		env.Lab = cm.Data["description"]
	}
	return env, nil
}

func nodeOf(n corev1.Node) Node {
	out := Node{Name: n.Name, PodCIDR: n.Spec.PodCIDR, Zone: n.Labels[LabelZone], Labels: n.Labels}
	_, out.ControlPlane = n.Labels["node-role.kubernetes.io/control-plane"]
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && out.IP == "" && !strings.Contains(a.Address, ":") {
			out.IP = a.Address
		}
	}
	return out
}

func providerOf(id string) string {
	switch {
	case strings.HasPrefix(id, "kind://"):
		return "kind"
	case strings.HasPrefix(id, "aws://"):
		return "eks"
	case strings.HasPrefix(id, "alicloud://"), strings.Contains(id, "cn-"):
		return "ack"
	case strings.HasPrefix(id, "gce://"):
		return "gke"
	}
	return "unknown"
}

// kubeProxyMode reads the mode from kube-proxy's kubeadm-style ConfigMap;
// empty mode means iptables on Linux. "none" when there is no kube-proxy.
func (e *Env) kubeProxyMode(ctx context.Context) string {
	cm, err := e.Kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{})
	if err != nil {
		if _, err := e.Kube.AppsV1().DaemonSets("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{}); err != nil {
			return "none"
		}
		return "iptables"
	}
	var conf struct {
		Mode string `yaml:"mode"`
	}
	for _, v := range cm.Data {
		if yaml.Unmarshal([]byte(v), &conf) == nil && conf.Mode != "" {
			return conf.Mode
		}
	}
	return "iptables"
}
