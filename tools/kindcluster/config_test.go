package main

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

// The repository's kind-config.yaml, with the mode set in the struct where
// cluster.sh ran sed: everything else as written.
func TestRepositoryConfig(t *testing.T) {
	for _, mode := range []string{"iptables", "nftables"} {
		c, err := loadConfig("../../kind-config.yaml", mode)
		if err != nil {
			t.Fatal(err)
		}
		k := c.kind
		if k.Networking.KubeProxyMode != v1alpha4.ProxyMode(mode) {
			t.Errorf("mode %s: kubeProxyMode %q", mode, k.Networking.KubeProxyMode)
		}
		if c.podSubnet != "10.244.0.0/16" || c.serviceSubnet != "10.96.0.0/16" || c.nodes != 3 {
			t.Errorf("pod %s service %s nodes %d", c.podSubnet, c.serviceSubnet, c.nodes)
		}
		if !k.Networking.DisableDefaultCNI || len(k.Nodes) != 3 || k.Nodes[0].Role != v1alpha4.ControlPlaneRole ||
			k.Nodes[1].Role != v1alpha4.WorkerRole || k.Nodes[2].Role != v1alpha4.WorkerRole {
			t.Errorf("networking/nodes not as written: %+v %+v", k.Networking, k.Nodes)
		}
		if len(k.ContainerdConfigPatches) != 1 || !strings.Contains(k.ContainerdConfigPatches[0], "restrict_oom_score_adj = true") {
			t.Errorf("containerdConfigPatches: %q", k.ContainerdConfigPatches)
		}
		if k.Nodes[0].Image != "" || k.Networking.APIServerAddress != "" {
			t.Errorf("kind's defaults leaked into the config given to kind: %+v", k)
		}
	}
}

// The mode is replaced wherever it stands, and set where the file has none.
func TestModeOverride(t *testing.T) {
	for _, raw := range []string{
		"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  kubeProxyMode: ipvs\n",
		"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  podSubnet: 10.1.0.0/16\n",
		"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n",
	} {
		c, err := parseConfig([]byte(raw), "nftables")
		if err != nil {
			t.Fatal(err)
		}
		if c.kind.Networking.KubeProxyMode != v1alpha4.NFTablesProxyMode {
			t.Errorf("%q: mode %q", raw, c.kind.Networking.KubeProxyMode)
		}
	}
}

// Subnets and node count come from the parsed config, kind's defaults where
// it says nothing (cluster.sh's awk gave empty arguments to cni.sh then).
func TestSubnetsAndDefaults(t *testing.T) {
	c, err := parseConfig([]byte("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  podSubnet: 10.1.0.0/16\n  serviceSubnet: 10.2.0.0/20\nnodes:\n- role: control-plane\n- role: worker\n"), "iptables")
	if err != nil {
		t.Fatal(err)
	}
	if c.podSubnet != "10.1.0.0/16" || c.serviceSubnet != "10.2.0.0/20" || c.nodes != 2 {
		t.Errorf("got pod %s service %s nodes %d", c.podSubnet, c.serviceSubnet, c.nodes)
	}
	c, err = parseConfig([]byte("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"), "iptables")
	if err != nil {
		t.Fatal(err)
	}
	if c.podSubnet != "10.244.0.0/16" || c.serviceSubnet != "10.96.0.0/16" || c.nodes != 1 {
		t.Errorf("defaults: pod %s service %s nodes %d", c.podSubnet, c.serviceSubnet, c.nodes)
	}
	if len(c.kind.Nodes) != 0 {
		t.Errorf("defaults written into the config given to kind: %+v", c.kind.Nodes)
	}
}

// Strict, as kind reads it: an unknown field, another apiVersion or kind, or
// not YAML is an error of one line.
func TestBadConfigs(t *testing.T) {
	for raw, says := range map[string]string{
		"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  kubeProxyMod: iptables\n": "field kubeProxyMod not found",
		"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n":                                        "want kind.x-k8s.io/v1alpha4 Cluster",
		"kind: Config\napiVersion: kind.x-k8s.io/v1alpha4\n":                                         "want kind.x-k8s.io/v1alpha4 Cluster",
		"":                 "want kind.x-k8s.io/v1alpha4 Cluster",
		"kind: [Cluster\n": "yaml:",
		"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- extraPortMappings:\n  - protocol: ICMP\n": "Unknown PortMappingProtocol",
	} {
		_, err := parseConfig([]byte(raw), "iptables")
		if err == nil || !strings.Contains(err.Error(), says) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line with %q", raw, err, says)
		}
	}
}

func TestMissingConfigIsUsage(t *testing.T) {
	_, err := loadConfig(t.TempDir()+"/kind-config.yaml", "iptables")
	var ue usageError
	if !errors.As(err, &ue) || !strings.HasSuffix(err.Error(), "kind-config.yaml: no such file") {
		t.Errorf("got %v", err)
	}
}

// What up hands kind (and keeps in $OUT/kind-config.<mode>.yaml, and config
// prints) reads back as the same config.
func TestConfigYAMLRoundTrip(t *testing.T) {
	c, err := loadConfig("../../kind-config.yaml", "nftables")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := c.yaml()
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseConfig(raw, "nftables")
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if !reflect.DeepEqual(back.kind, c.kind) {
		t.Errorf("round trip changed the config:\n%+v\n%+v", back.kind, c.kind)
	}
	if !bytes.Contains(raw, []byte("kubeProxyMode: nftables")) {
		t.Errorf("no mode in\n%s", raw)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"config", "--config", "../../kind-config.yaml", "--kube-proxy-mode", "nftables"}, &stdout, &stderr); code != 0 ||
		!bytes.HasSuffix(stdout.Bytes(), raw) {
		t.Errorf("config: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
