package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/netchaos/netchaos/experiments"
)

// clusterFlags are the flags that name the target cluster: a kubeconfig
// context, or --in-cluster from a pod of the cluster itself. One of the two,
// always explicit: the kubeconfig file has a default, the context never.
type clusterFlags struct {
	flags               *pflag.FlagSet
	kubeconfig, context string
	inCluster           bool
}

func addClusterFlags(fs *pflag.FlagSet) *clusterFlags {
	c := &clusterFlags{flags: fs}
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&c.context, "context", "", "kubeconfig context of the target cluster (required: netchaos never picks one)")
	fs.BoolVar(&c.inCluster, "in-cluster", false, "target the cluster this pod runs in, with its service account (instead of --kubeconfig and --context)")
	return c
}

// name is how the target cluster is named in messages.
func (c *clusterFlags) name() string {
	if c.inCluster {
		return experiments.InClusterContext
	}
	return c.context
}

// kubeconfigPath is --kubeconfig, else $KUBECONFIG, else ~/.kube/config
// when it exists ("" when none of them names a file).
func (c *clusterFlags) kubeconfigPath() string {
	if c.kubeconfig != "" {
		return c.kubeconfig
	}
	if kc := os.Getenv("KUBECONFIG"); kc != "" {
		return kc
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	kc := filepath.Join(home, ".kube", "config")
	if _, err := os.Stat(kc); err != nil {
		return ""
	}
	return kc
}

func (c *clusterFlags) env(o experiments.Options) (*experiments.Env, error) {
	if c.inCluster {
		if c.flags.Changed("kubeconfig") || c.flags.Changed("context") {
			return nil, usagef("--in-cluster excludes --kubeconfig and --context: name the cluster one way")
		}
		o.InCluster = true
	} else {
		kc := c.kubeconfigPath()
		if kc == "" {
			return nil, usagef("no kubeconfig: give --kubeconfig, set KUBECONFIG or create ~/.kube/config (or --in-cluster in a pod)")
		}
		if c.context == "" {
			return nil, usagef("no --context: name the target cluster explicitly (netchaos never picks one)")
		}
		o.Kubeconfig, o.Context = kc, c.context
	}
	e, err := experiments.NewEnv(o)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return e, nil
}
