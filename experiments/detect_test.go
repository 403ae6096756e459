package experiments

import (
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestProxyModeOf(t *testing.T) {
	// Recorded from kind v1.34.2 (kube-system/kube-proxy, config.conf).
	kind, err := os.ReadFile("testdata/kube-proxy-config.conf.kind-v1.34.2-iptables")
	if err != nil {
		t.Fatal(err)
	}
	conf := string(kind)
	withMode := func(m string) string { return strings.Replace(conf, "\nmode: iptables\n", "\nmode: "+m+"\n", 1) }
	cm := func(name, key, data string) corev1.ConfigMap {
		return corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system"}, Data: map[string]string{key: data}}
	}
	// kube-proxy's own command line as kind's DaemonSet runs it.
	kindCmd := corev1.PodSpec{Containers: []corev1.Container{{Name: "kube-proxy",
		Command: []string{"/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf", "--hostname-override=$(NODE_NAME)"}}}}
	flags := func(args ...string) corev1.PodSpec {
		return corev1.PodSpec{Containers: []corev1.Container{{Name: "kube-proxy", Command: []string{"kube-proxy"}, Args: args}}}
	}
	for _, c := range []struct {
		name  string
		cms   []corev1.ConfigMap
		specs []corev1.PodSpec
		want  string
	}{
		{"kind, recorded", []corev1.ConfigMap{cm("kube-proxy", "config.conf", conf)}, []corev1.PodSpec{kindCmd}, "iptables"},
		{"kind with kubeProxyMode nftables", []corev1.ConfigMap{cm("kube-proxy", "config.conf", withMode("nftables"))}, []corev1.PodSpec{kindCmd}, "nftables"},
		{"kubeadm with mode ipvs", []corev1.ConfigMap{cm("kube-proxy", "config.conf", withMode("ipvs"))}, []corev1.PodSpec{kindCmd}, "ipvs"},
		{"mode empty: the Linux default", []corev1.ConfigMap{cm("kube-proxy", "config.conf", withMode(`""`))}, []corev1.PodSpec{kindCmd}, "iptables"},
		// EKS keeps it in kube-proxy-config, key config (format of its add-on).
		{"EKS kube-proxy-config", []corev1.ConfigMap{cm("kube-proxy-config", "config",
			"apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: \"ipvs\"\nipvs:\n  scheduler: \"rr\"\n")}, nil, "ipvs"},
		// The kubeconfig in the same ConfigMap has no mode and is not a KubeProxyConfiguration.
		{"kubeconfig beside it", []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy"}, Data: map[string]string{
			"kubeconfig.conf": "apiVersion: v1\nkind: Config\nclusters: []\n", "config.conf": withMode("ipvs")}}}, nil, "ipvs"},
		{"flag only (ACK-style DaemonSet)", nil, []corev1.PodSpec{flags("--proxy-mode=ipvs", "--v=2")}, "ipvs"},
		{"flag, separate value", nil, []corev1.PodSpec{flags("--proxy-mode", "IPVS")}, "ipvs"},
		{"flag in a shell wrapper (static pod)", nil, []corev1.PodSpec{{Containers: []corev1.Container{{Command: []string{"/bin/sh", "-c",
			"exec kube-proxy --master=https://10.0.0.2 --proxy-mode=ipvs --oom-score-adj=-998 1>>/var/log/kube-proxy.log 2>&1"}}}}}, "ipvs"},
		{"no mode anywhere", nil, []corev1.PodSpec{flags("--v=2")}, "iptables"},
		{"no kube-proxy", nil, nil, "none"},
	} {
		if got := ProxyModeOf(c.cms, c.specs); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestProxyVersionOf(t *testing.T) {
	image := func(name, img string) []corev1.PodSpec {
		return []corev1.PodSpec{{Containers: []corev1.Container{{Name: name, Image: img}}}}
	}
	for _, c := range []struct {
		name  string
		specs []corev1.PodSpec
		want  string
	}{
		{"kind", image("kube-proxy", "registry.k8s.io/kube-proxy:v1.34.2"), "v1.34.2"},
		{"EKS add-on", image("kube-proxy", "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.1"), "v1.29.0"},
		{"lab control build", image("kube-proxy", "netchaos/kube-proxy:v1.34.2-no-ct-cleanup"), "v1.34.2"},
		{"registry with a port, by digest", image("kube-proxy", "registry.local:5000/kube-proxy@sha256:0123"), ""},
		{"tag names no release", image("kube-proxy", "registry.local:5000/kube-proxy:latest"), ""},
		{"sidecar first", []corev1.PodSpec{{Containers: []corev1.Container{{Name: "log", Image: "busybox:1.36.1"},
			{Name: "kube-proxy", Image: "registry.k8s.io/kube-proxy:v1.31.14"}}}}, "v1.31.14"},
		{"no kube-proxy", nil, ""},
	} {
		if got := ProxyVersionOf(c.specs); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := (Environment{KubeProxyVersion: "v1.31.14"}).ProxyMinor(); got != 31 {
		t.Errorf("ProxyMinor: %d, want 31", got)
	}
}
