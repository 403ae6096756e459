package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// cmdDown deletes the cluster and its context in the kubeconfig file. Like
// make cluster-down always did, it succeeds when docker is not running.
func cmdDown(args []string, stdout, stderr io.Writer) error {
	o := &options{}
	fs := pflag.NewFlagSet("down", pflag.ContinueOnError)
	o.addCluster(fs)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file to remove the cluster's context from (default: kind's, $KUBECONFIG or ~/.kube/config)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := validName(o.name); err != nil {
		return err
	}
	p := newProgress(stdout)
	if err := dockerAnswers(context.Background()); err != nil {
		fmt.Fprintf(stderr, "kindcluster down: %v: nothing to delete\n", err)
		return nil
	}
	kind := newProvider(nil)
	found, err := exists(kind, o.name)
	if err != nil {
		return err
	}
	if err := kind.Delete(o.name, o.kubeconfig); err != nil {
		return fmt.Errorf("deleting cluster %s: %s", o.name, kindError(err))
	}
	if found {
		p.log("cluster", "cluster %s deleted", o.name)
	} else {
		p.log("cluster", "no cluster %s", o.name)
	}
	return nil
}

// cmdStatus prints up's decision for the cluster as it is now, changing
// nothing (not even the kubeconfig file: it reads the cluster's kubeconfig
// from kind): exit 0 when up would reuse it, 1 when up would create it.
func cmdStatus(args []string, stdout io.Writer) error {
	o := &options{}
	fs := pflag.NewFlagSet("status", pflag.ContinueOnError)
	o.addCluster(fs)
	o.addWant(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := o.validateWant(); err != nil {
		return err
	}
	cfg, err := loadConfig(o.config, o.mode)
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := dockerAnswers(ctx); err != nil {
		return fmt.Errorf("%v; make docker starts it", err)
	}
	kind := newProvider(nil)
	found, err := exists(kind, o.name)
	if err != nil {
		return err
	}
	if !found {
		fmt.Fprintf(stdout, "cluster %s does not exist: up creates it\n", o.name)
		return errNotReusable
	}
	ok, why := false, ""
	kc, err := kind.KubeConfig(o.name, false)
	if err != nil {
		why = "no kubeconfig from kind: " + kindError(err)
	} else if cs, err := clientFromKubeconfig([]byte(kc)); err != nil {
		why = err.Error()
	} else {
		ok, why = decide(ctx, cs, want{version: o.version, mode: o.mode, nodes: cfg.nodes})
	}
	if !ok {
		fmt.Fprintf(stdout, "cluster %s is not reusable (%s): up re-creates it\n", o.name, why)
		return errNotReusable
	}
	fmt.Fprintf(stdout, "cluster %s is Ready (%s, kube-proxy %s, %d nodes): up reuses it\n", o.name, o.version, o.mode, cfg.nodes)
	return nil
}

func clientFromKubeconfig(kubeconfig []byte) (kubernetes.Interface, error) {
	rc, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kind's kubeconfig: %s", oneLine(err.Error()))
	}
	rc.Timeout = apiTimeout
	return kubernetes.NewForConfig(rc)
}

// cmdConfig prints the kind config up gives kind.
func cmdConfig(args []string, stdout io.Writer) error {
	o := &options{}
	fs := pflag.NewFlagSet("config", pflag.ContinueOnError)
	o.addConfig(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := validMode(o.mode); err != nil {
		return err
	}
	cfg, err := loadConfig(o.config, o.mode)
	if err != nil {
		return err
	}
	raw, err := cfg.yaml()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# pod subnet %s, service subnet %s, %d nodes\n", cfg.podSubnet, cfg.serviceSubnet, cfg.nodes)
	_, err = stdout.Write(raw)
	return err
}
