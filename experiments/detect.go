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
	// KubeProxyVersion is the release kube-proxy's image is tagged with
	// ("v1.31.14"), which may differ from the API server's; empty when there
	// is no kube-proxy or its tag names no release.
	KubeProxyVersion string `json:"kube_proxy_version,omitempty"`
	CNI              string `json:"cni"`
	NodeOS           string `json:"node_os"`
	Kernel           string `json:"kernel"`
	Nodes            []Node `json:"nodes"`
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
	env.Minor = minorOf(v.GitVersion)
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
	env.KubeProxyMode, env.KubeProxyVersion = e.kubeProxy(ctx)
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

// kubeProxyConfigMaps are where clusters keep kube-proxy's
// KubeProxyConfiguration in kube-system: kubeadm and kind (kube-proxy,
// config.conf), EKS (kube-proxy-config, config), ACK (kube-proxy-worker,
// config.conf).
var kubeProxyConfigMaps = []string{"kube-proxy", "kube-proxy-config", "kube-proxy-worker"}

// kubeProxy reads kube-proxy's mode from its configuration (see
// ProxyModeOf): the ConfigMaps above, and the command lines of the
// kube-proxy DaemonSets (or static pods, labelled component=kube-proxy or
// k8s-app=kube-proxy) in kube-system ("none" when there is no kube-proxy);
// and its version from their images (ProxyVersionOf).
func (e *Env) kubeProxy(ctx context.Context) (mode, version string) {
	var cms []corev1.ConfigMap
	for _, name := range kubeProxyConfigMaps {
		if cm, err := e.Kube.CoreV1().ConfigMaps("kube-system").Get(ctx, name, metav1.GetOptions{}); err == nil {
			cms = append(cms, *cm)
		}
	}
	var specs []corev1.PodSpec
	if ds, err := e.Kube.AppsV1().DaemonSets("kube-system").List(ctx, metav1.ListOptions{}); err == nil {
		for _, d := range ds.Items {
			if strings.HasPrefix(d.Name, "kube-proxy") {
				specs = append(specs, d.Spec.Template.Spec)
			}
		}
	}
	if len(specs) == 0 {
		for _, sel := range []string{"component=kube-proxy", "k8s-app=kube-proxy"} {
			if pods, err := e.Kube.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: sel, Limit: 1}); err == nil {
				for _, p := range pods.Items {
					specs = append(specs, p.Spec)
				}
			}
		}
	}
	return ProxyModeOf(cms, specs), ProxyVersionOf(specs)
}

var releaseTagRe = regexp.MustCompile(`^(v1\.\d+\.\d+)`)

// ProxyVersionOf is the release the kube-proxy container's image tag names
// ("registry.k8s.io/kube-proxy:v1.34.2", EKS's
// ".../eks/kube-proxy:v1.29.0-minimal-eksbuild.1"): the version of the
// first one that has such a tag, else "".
func ProxyVersionOf(specs []corev1.PodSpec) string {
	for _, s := range specs {
		for _, c := range s.Containers {
			if !strings.Contains(c.Name+" "+c.Image, "kube-proxy") {
				continue
			}
			image, _, _ := strings.Cut(c.Image, "@")
			if i := strings.LastIndex(image, ":"); i >= 0 && !strings.Contains(image[i:], "/") {
				if m := releaseTagRe.FindStringSubmatch(image[i+1:]); m != nil {
					return m[1]
				}
			}
		}
	}
	return ""
}

// ProxyMinor is the minor version of kube-proxy's release, 0 when unknown.
func (e Environment) ProxyMinor() int { return minorOf(e.KubeProxyVersion) }

// minorOf is the minor version of a "v1.MINOR..." version, 0 when it is not one.
func minorOf(version string) int {
	var n int
	if m := minorRe.FindStringSubmatch(version); m != nil {
		fmt.Sscan(m[1], &n)
	}
	return n
}

var proxyModeRe = regexp.MustCompile(`^--proxy-mode(?:=(.*))?$`)

// ProxyModeOf is kube-proxy's mode from its configuration: the mode of a
// KubeProxyConfiguration in one of the ConfigMaps, else a --proxy-mode flag
// of a kube-proxy container, else iptables (kube-proxy's Linux default when
// the mode is empty); "none" when there is neither a ConfigMap nor a
// kube-proxy pod spec.
func ProxyModeOf(cms []corev1.ConfigMap, specs []corev1.PodSpec) string {
	for _, cm := range cms {
		for _, v := range cm.Data {
			var conf struct {
				Kind string `yaml:"kind"`
				Mode string `yaml:"mode"`
			}
			if yaml.Unmarshal([]byte(v), &conf) == nil && conf.Kind == "KubeProxyConfiguration" && conf.Mode != "" {
				return strings.ToLower(conf.Mode)
			}
		}
	}
	for _, s := range specs {
		for _, c := range s.Containers {
			words := append(append([]string{}, c.Command...), c.Args...)
			// A shell wrapper (sh -c "kube-proxy ... --proxy-mode=ipvs") is one word.
			var flat []string
			for _, w := range words {
				flat = append(flat, strings.Fields(w)...)
			}
			for i, w := range flat {
				m := proxyModeRe.FindStringSubmatch(w)
				switch {
				case m == nil:
				case strings.Contains(w, "="):
					if m[1] != "" {
						return strings.ToLower(strings.Trim(m[1], `"'`))
					}
				case i+1 < len(flat):
					return strings.ToLower(strings.Trim(flat[i+1], `"'`))
				}
			}
		}
	}
	if len(cms) == 0 && len(specs) == 0 {
		return "none"
	}
	return "iptables"
}
