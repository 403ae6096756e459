package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// scripts runs the tools/cluster steps that stay shell (cni.sh, metallb.sh,
// lab.sh) with the environment lib.sh expects: OUT, and CLUSTER_T0 so that
// their progress lines count from the same instant as ours.
type scripts struct {
	dir            string
	env            []string
	stdout, stderr io.Writer
}

func newScripts(o *options, cfg *clusterConfig, t0 int64, stdout, stderr io.Writer) *scripts {
	env := append(os.Environ(),
		"OUT="+o.out,
		"CLUSTER_T0="+strconv.FormatInt(t0, 10),
		"KIND_CONFIG="+o.config, // lab.sh reads the subnets from it
	)
	return &scripts{dir: o.scripts, env: env, stdout: stdout, stderr: stderr}
}

// run runs script with args, its output passed through.
func (s *scripts) run(script string, args ...string) error {
	return s.exec(s.stdout, s.stderr, script, args...)
}

// quiet runs script with args, its output discarded (cluster.sh's >/dev/null 2>&1).
func (s *scripts) quiet(script string, args ...string) error {
	return s.exec(io.Discard, io.Discard, script, args...)
}

func (s *scripts) exec(stdout, stderr io.Writer, script string, args ...string) error {
	c := exec.Command(filepath.Join(s.dir, script), args...)
	c.Env, c.Stdout, c.Stderr = s.env, stdout, stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s %v failed: %v", script, args, err)
	}
	return nil
}
