package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestValidVersion(t *testing.T) {
	for v, ok := range map[string]bool{
		"v1.34.2": true, "v1.30.4": true, "v1.0.0": true, "v1.35.0-alpha.1": true, "v1.34.2-rc.0": true,
		"": false, "1.34.2": false, "v1.34": false, "v2.0.0": false, "v1.34.x": false, "v1.034.2": false,
		"v1.34.2 ": false, "v1.34.2+build": false, "v1.34.2-": false, "latest": false,
	} {
		if err := validVersion(v); (err == nil) != ok {
			t.Errorf("validVersion(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

func TestValidMode(t *testing.T) {
	for m, ok := range map[string]bool{"iptables": true, "nftables": true, "ipvs": false, "none": false, "": false, "IPTABLES": false} {
		if err := validMode(m); (err == nil) != ok {
			t.Errorf("validMode(%q) = %v, want ok=%v", m, err, ok)
		}
	}
}

func TestValidName(t *testing.T) {
	for n, ok := range map[string]bool{"netchaos": true, "netchaos-v130": true, "a.b-1": true, "": false, "Netchaos": false, "net_chaos": false, "a b": false} {
		if err := validName(n); (err == nil) != ok {
			t.Errorf("validName(%q) = %v, want ok=%v", n, err, ok)
		}
	}
}

// Every way to call it wrongly: exit code 2, one line on stderr that names the
// problem, nothing on stdout, and no docker needed to say so.
func TestBadInputOneLineExit2(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no docker: bad input is found before it is asked
	t.Setenv("OUT", t.TempDir())
	up := []string{"up", "--scripts", "../cluster", "--config", "../../kind-config.yaml"}
	for _, c := range []struct {
		args []string
		says string
	}{
		{nil, "usage: kindcluster"},
		{[]string{"frob"}, `unknown command "frob"`},
		{append(up, "--k8s-version", "v1.34.2", "--kube-proxy-mode", "ipvs"), `"ipvs" is not supported here`},
		{append(up, "--k8s-version", "v1.34.2", "--kube-proxy-mode", "userspace"), `"userspace" is not supported here`},
		{append(up, "--k8s-version", "1.34"), `"1.34" is not of the form v1.MINOR.PATCH`},
		{up, "--k8s-version is required"},
		{append(up, "--k8s-version", "v1.34.2", "--name", "Net_Chaos"), "not a valid kind cluster name"},
		{append(up, "--k8s-version", "v1.34.2", "--config", "nope.yaml"), "kind config nope.yaml: no such file"},
		{append(up, "--k8s-version", "v1.34.2", "--config", "main.go"), "kind config main.go:"},
		{append(up, "--k8s-version", "v1.34.2", "--scripts", "."), "no cni.sh there"},
		{append(up, "--k8s-version", "v1.34.2", "--wait", "0s"), "--wait 0s: must be positive"},
		{append(up, "--k8s-version", "v1.34.2", "--wait", "soon"), "invalid argument"},
		{append(up, "--k8s-version", "v1.34.2", "extra"), `unexpected argument "extra"`},
		{[]string{"up", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"status", "--k8s-version", "v1.34", "--config", "../../kind-config.yaml"}, "not of the form"},
		{[]string{"status", "--k8s-version", "v1.34.2", "--config", "nope.yaml"}, "no such file"},
		{[]string{"down", "--name", "UPPER"}, "not a valid kind cluster name"},
		{[]string{"config", "--config", "../../kind-config.yaml", "--kube-proxy-mode", "ipvs"}, "not supported here"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code != 2 || !strings.Contains(stderr.String(), c.says) || (c.args != nil && len(lines) != 1) || stdout.Len() > 0 {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want 2 and one line saying %q", c.args, code, stderr.String(), stdout.String(), c.says)
		}
		if c.args != nil && !strings.HasPrefix(stderr.String(), "error: ") {
			t.Errorf("%q: stderr %q does not start with error:", c.args, stderr.String())
		}
	}
}

func TestNoOutDir(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("OUT", "")
	var stdout, stderr bytes.Buffer
	code := run([]string{"up", "--k8s-version", "v1.34.2", "--scripts", "../cluster", "--config", "../../kind-config.yaml"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "give --out or set $OUT") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// No docker engine: up and status fail with one line (exit 1), before
// anything is written; down has nothing to do and succeeds, as make
// cluster-down always did.
func TestDockerNotAnswering(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	out := t.TempDir()
	t.Setenv("OUT", out)
	for _, args := range [][]string{
		{"up", "--k8s-version", "v1.34.2", "--scripts", "../cluster", "--config", "../../kind-config.yaml"},
		{"status", "--k8s-version", "v1.34.2", "--config", "../../kind-config.yaml"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		if code != 1 || stderr.String() != "error: docker is not answering (docker info: exec: \"docker\": executable file not found in $PATH); make docker starts it\n" {
			t.Errorf("%s: exit %d, stderr %q", args[0], code, stderr.String())
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) > 0 {
		t.Errorf("up wrote %v before docker answered", entries)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"down", "--kubeconfig", out + "/kubeconfig"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "nothing to delete") {
		t.Errorf("down: exit %d, stderr %q", code, stderr.String())
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"up", "-h"}, {"down", "--help"}, {"status", "-h"}, {"config", "-h"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 || stdout.Len() == 0 || stderr.Len() > 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
	}
}
