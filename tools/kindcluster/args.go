package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/spf13/pflag"
)

// options are up's flags; status, down and config take subsets of them.
type options struct {
	name, version, mode string
	kubeconfig, config  string // kubeconfig file up writes the context kind-<name> into; kind-config.yaml
	out, scripts        string // $OUT (the scripts' builds, logs, bin/), the tools/cluster directory
	labProfile          string
	nodeImage           string
	images              []string // loaded into the nodes when present in docker
	wait                time.Duration
}

// errHelp: -h was asked for and printed.
var errHelp = errors.New("help")

func (o *options) addCluster(fs *pflag.FlagSet) {
	fs.StringVar(&o.name, "name", "netchaos", "kind cluster name (its kubeconfig context is kind-<name>)")
}

func (o *options) addWant(fs *pflag.FlagSet) {
	fs.StringVar(&o.version, "k8s-version", "", "Kubernetes version, v1.MINOR.PATCH (required): node image netchaos/kind-node:<version>")
	o.addConfig(fs)
}

func (o *options) addConfig(fs *pflag.FlagSet) {
	fs.StringVar(&o.mode, "kube-proxy-mode", "iptables", "kube-proxy mode: iptables or nftables (this kernel has no IPVS)")
	fs.StringVar(&o.config, "config", "kind-config.yaml", "kind config (kind.x-k8s.io/v1alpha4 Cluster); its kubeProxyMode is replaced by --kube-proxy-mode")
}

func (o *options) addUp(fs *pflag.FlagSet) {
	o.addCluster(fs)
	o.addWant(fs)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file the cluster's context is written into (default $OUT/kubeconfig)")
	fs.StringVar(&o.out, "out", os.Getenv("OUT"), "output directory of the tools/cluster scripts (default $OUT)")
	fs.StringVar(&o.scripts, "scripts", "tools/cluster", "directory of cni.sh, metallb.sh and lab.sh")
	fs.StringVar(&o.labProfile, "lab-profile", envOr("LAB_PROFILE", "default"), "lab profile lab.sh puts the cluster into (default $LAB_PROFILE, else default)")
	fs.StringVar(&o.nodeImage, "node-image", "", "node image (default netchaos/kind-node:<k8s-version>)")
	fs.StringArrayVar(&o.images, "load-image", nil, "docker image to load into the nodes when docker has it (repeatable)")
	fs.DurationVar(&o.wait, "wait", 180*time.Second, "how long each wait may take: all nodes Ready, CoreDNS rolled out")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// parseFlags parses args into fs: a usage error for a bad flag or an argument
// that is not one; errHelp after printing the flags for -h.
func parseFlags(fs *pflag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			fmt.Fprintf(stdout, "usage: kindcluster %s [flags]\n", fs.Name())
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return errHelp
		}
		return usagef("%v (kindcluster %s -h lists its flags)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (kindcluster %s takes flags only)", fs.Arg(0), fs.Name())
	}
	return nil
}

// kind's own rule for cluster names (validNameRE, pkg/internal/apis/config/validate.go).
var nameRE = regexp.MustCompile(`^[a-z0-9.-]+$`)

// A release or pre-release tag, as the node image's tag and the nodes' kubeletVersion spell it.
var versionRE = regexp.MustCompile(`^v1\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z][0-9A-Za-z.-]*)?$`)

func validName(name string) error {
	if !nameRE.MatchString(name) {
		return usagef("--name %q is not a valid kind cluster name (lower-case letters, digits, '.' and '-')", name)
	}
	return nil
}

func validVersion(v string) error {
	switch {
	case v == "":
		return usagef("--k8s-version is required (e.g. v1.34.2)")
	case !versionRE.MatchString(v):
		return usagef("--k8s-version %q is not of the form v1.MINOR.PATCH", v)
	}
	return nil
}

// validMode: the modes this lab supports (kind also knows ipvs and none).
func validMode(m string) error {
	switch m {
	case "iptables", "nftables":
		return nil
	}
	return usagef("--kube-proxy-mode %q is not supported here (iptables or nftables; this kernel has no IPVS)", m)
}

// validateWant checks what status and up compare a running cluster with.
func (o *options) validateWant() error {
	if err := validName(o.name); err != nil {
		return err
	}
	if err := validVersion(o.version); err != nil {
		return err
	}
	return validMode(o.mode)
}

// validateUp checks up's flags and fills in the defaults that depend on others.
func (o *options) validateUp() error {
	if err := o.validateWant(); err != nil {
		return err
	}
	if o.out == "" {
		return usagef("no output directory: give --out or set $OUT (the scripts keep their builds and logs there)")
	}
	if o.kubeconfig == "" {
		o.kubeconfig = filepath.Join(o.out, "kubeconfig")
	}
	if o.nodeImage == "" {
		o.nodeImage = "netchaos/kind-node:" + o.version
	}
	if o.wait <= 0 {
		return usagef("--wait %v: must be positive", o.wait)
	}
	if o.labProfile == "" {
		return usagef("--lab-profile is empty (default, or a profile lab.sh lists)")
	}
	var err error
	if o.scripts, err = filepath.Abs(o.scripts); err != nil {
		return usagef("--scripts: %v", err)
	}
	for _, s := range []string{"cni.sh", "metallb.sh", "lab.sh"} {
		if _, err := os.Stat(filepath.Join(o.scripts, s)); err != nil {
			return usagef("--scripts %s: no %s there (run from the repository root or give --scripts .../tools/cluster)", o.scripts, s)
		}
	}
	return nil
}
