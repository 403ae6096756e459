package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments/catalog"
)

// list needs no cluster: every catalog entry, its labels and whether it
// disrupts nodes, one line each under a header; names or labels narrow it.
func TestList(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent")
	var out, errb bytes.Buffer
	if code := run([]string{"list"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	all := catalog.All()
	if len(lines) != len(all)+1 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("%d lines, want a header and %d entries:\n%s", len(lines), len(all), out.String())
	}
	for i, e := range all {
		f := strings.Fields(lines[i+1])
		if f[0] != e.Name || f[1] != strings.Join(e.Labels, ",") || f[2] != yesNo(e.NodeDisruptive) {
			t.Errorf("line %q, want %s %v node-disruptive %v", lines[i+1], e.Name, e.Labels, e.NodeDisruptive)
		}
	}
	out.Reset()
	if code := run([]string{"list", "t3"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "networkd-restart  t3,routing  yes") || !strings.Contains(out.String(), "networkd-newlink  t3,routing  yes") || strings.Count(out.String(), "\n") != 3 {
		t.Errorf("list t3: exit %d:\n%s", code, out.String())
	}
}
