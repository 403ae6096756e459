package main

import (
	"bytes"
	"io"
	"testing"
	"time"

	kindcmd "sigs.k8s.io/kind/pkg/cmd"
	dockerimage "sigs.k8s.io/kind/pkg/cmd/kind/load/docker-image"
)

// loadImages runs kind's own command with --name and image arguments: it must
// still take them (a kind upgrade that renames them fails here, not on a cluster).
func TestLoadCommandTakesItsArguments(t *testing.T) {
	c := dockerimage.NewCommand(newFileLogger(io.Discard), kindcmd.IOStreams{})
	if err := c.ParseFlags([]string{"--name", "netchaos"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Flags().GetString("name"); v != "netchaos" {
		t.Errorf("--name %q", v)
	}
	if err := c.Args(c, []string{"netchaos/probe:dev"}); err != nil {
		t.Errorf("image argument refused: %v", err)
	}
}

func TestFileLogger(t *testing.T) {
	var b bytes.Buffer
	l := newFileLogger(&b)
	l.V(0).Infof("Creating cluster %q ...\n", "netchaos")
	l.V(1).Info("debug, not shown")
	l.Warnf("careful %d", 1)
	l.Errorf("ERROR: %v", "it broke")
	if l.V(1).Enabled() || !l.V(0).Enabled() {
		t.Error("V(0) only")
	}
	want := "Creating cluster \"netchaos\" ...\nWARNING: careful 1\nERROR: it broke\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(1000+3*60+7, 0)
	p := &progress{w: &b, t0: 1000, now: func() time.Time { return now }}
	p.log("cluster", "cluster %s Ready; KUBECONFIG=%s", "netchaos", "/x/kubeconfig")
	if b.String() != "[cluster 03:07] cluster netchaos Ready; KUBECONFIG=/x/kubeconfig\n" {
		t.Errorf("%q", b.String())
	}
	t.Setenv("CLUSTER_T0", "1234")
	if p := newProgress(io.Discard); p.t0 != 1234 {
		t.Errorf("t0 %d from $CLUSTER_T0", p.t0)
	}
	t.Setenv("CLUSTER_T0", "")
	if p := newProgress(io.Discard); time.Since(time.Unix(p.t0, 0)) > time.Minute {
		t.Errorf("t0 %d without $CLUSTER_T0", p.t0)
	}
}
