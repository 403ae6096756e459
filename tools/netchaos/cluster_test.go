package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// unreachable is a kubeconfig whose only context, nowhere, names an API
// server nothing listens on.
const unreachable = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: nowhere, context: {cluster: c, user: u}}]
`

// --kubeconfig defaults to $KUBECONFIG, then ~/.kube/config.
func TestKubeconfigDefault(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", "")
	c := addClusterFlags(pflag.NewFlagSet("x", pflag.ContinueOnError))
	if got := c.kubeconfigPath(); got != "" {
		t.Errorf("no ~/.kube/config: %q, want none", got)
	}
	kc := filepath.Join(home, ".kube", "config")
	os.MkdirAll(filepath.Dir(kc), 0o700)
	os.WriteFile(kc, []byte(unreachable), 0o600)
	if got := c.kubeconfigPath(); got != kc {
		t.Errorf("%q, want %s", got, kc)
	}
	t.Setenv("KUBECONFIG", "/from/env")
	if got := c.kubeconfigPath(); got != "/from/env" {
		t.Errorf("%q, want $KUBECONFIG", got)
	}
	c.kubeconfig = "/from/flag"
	if got := c.kubeconfigPath(); got != "/from/flag" {
		t.Errorf("%q, want --kubeconfig", got)
	}
	// End to end: the context exists only in ~/.kube/config, so reaching
	// its API server (exit 3) means the default file was read.
	t.Setenv("KUBECONFIG", "")
	var out, errb bytes.Buffer
	code := run([]string{"cleanup", "--context", "nowhere"}, &out, &errb)
	if msg := strings.TrimSpace(errb.String()); code != 3 || !strings.Contains(msg, "nowhere") || strings.Contains(msg, "\n") {
		t.Errorf("cleanup with ~/.kube/config: exit %d, stderr %q; want exit 3 naming the cluster", code, msg)
	}
}

// The context is never defaulted: without --context, one line and exit 2,
// before anything touches a cluster.
func TestMissingContext(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(kc, []byte(unreachable+"current-context: nowhere\n"), 0o600)
	t.Setenv("KUBECONFIG", kc)
	for _, args := range [][]string{{"run"}, {"run", "--dry-run"}, {"cleanup"}, {"report", "--from-configmap", "ns/name"}} {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		if msg := errb.String(); code != 2 || msg != "netchaos "+args[0]+": no --context: name the target cluster explicitly (netchaos never picks one)\n" {
			t.Errorf("%q: exit %d, stderr %q", args, code, msg)
		}
	}
}
