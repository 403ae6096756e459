package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
)

// clusterConfig is kind-config.yaml as kind reads it, with kube-proxy's mode
// set: what up gives kind, and what it and the scripts need to know of it.
type clusterConfig struct {
	kind                     *v1alpha4.Cluster // as written, but for networking.kubeProxyMode
	podSubnet, serviceSubnet string            // after kind's defaults
	nodes                    int               // after kind's defaults
}

// loadConfig reads a kind config file; every error is bad input.
func loadConfig(path, mode string) (*clusterConfig, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usagef("kind config %s: no such file", path)
	}
	if err != nil {
		return nil, usagef("kind config: %v", err)
	}
	c, err := parseConfig(raw, mode)
	if err != nil {
		return nil, usagef("kind config %s: %v", path, err)
	}
	return c, nil
}

// parseConfig decodes a kind.x-k8s.io/v1alpha4 Cluster as kind does (strict:
// an unknown field is an error; pkg/internal/apis/config/encoding/load.go) and
// sets networking.kubeProxyMode to mode.
func parseConfig(raw []byte, mode string) (*clusterConfig, error) {
	var tm v1alpha4.TypeMeta
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return nil, errors.New(oneLine(err.Error()))
	}
	if tm.APIVersion != "kind.x-k8s.io/v1alpha4" || tm.Kind != "Cluster" {
		return nil, usagef("apiVersion %q kind %q: want kind.x-k8s.io/v1alpha4 Cluster", tm.APIVersion, tm.Kind)
	}
	cfg := &v1alpha4.Cluster{}
	d := yaml.NewDecoder(bytes.NewReader(raw))
	d.KnownFields(true)
	if err := d.Decode(cfg); err != nil {
		return nil, errors.New(oneLine(err.Error()))
	}
	cfg.Networking.KubeProxyMode = v1alpha4.ProxyMode(mode)

	defaulted := cfg.DeepCopy()
	v1alpha4.SetDefaultsCluster(defaulted)
	return &clusterConfig{
		kind:          cfg,
		podSubnet:     defaulted.Networking.PodSubnet,
		serviceSubnet: defaulted.Networking.ServiceSubnet,
		nodes:         len(defaulted.Nodes),
	}, nil
}

// yaml is the config as kind gets it (up keeps a copy in $OUT/kind-config.<mode>.yaml).
func (c *clusterConfig) yaml() ([]byte, error) {
	var b bytes.Buffer
	e := yaml.NewEncoder(&b)
	e.SetIndent(2)
	if err := e.Encode(c.kind); err != nil {
		return nil, err
	}
	return b.Bytes(), e.Close()
}

// oneLine joins a multi-line error (yaml's "unmarshal errors:" and its list) into one line.
func oneLine(s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, " ")
}
