package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

// version and --version print the same: the -X main.version value, the
// commit, its date, whether the tree was modified, and the Go release.
func TestVersion(t *testing.T) {
	var a, b, errb bytes.Buffer
	if code := run([]string{"version"}, &a, &errb); code != 0 || !strings.HasPrefix(a.String(), "netchaos "+version+"\n") || !strings.Contains(a.String(), "go:") {
		t.Fatalf("version: exit %d, %q", code, a.String())
	}
	if code := run([]string{"--version"}, &b, &errb); code != 0 || b.String() != a.String() {
		t.Fatalf("--version: exit %d, %q; want %q", code, b.String(), a.String())
	}
	bi := &debug.BuildInfo{GoVersion: "go1.99.1", Main: debug.Module{Path: "github.com/netchaos/netchaos", Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "5059848abc"}, {Key: "vcs.time", Value: "2026-12-02T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := describeBuild("v1.2.3", bi)
	want := "netchaos v1.2.3\ncommit:   5059848abc (with uncommitted changes)\ndate:     2026-12-02T10:00:00Z\ngo:       go1.99.1\n"
	if got != want {
		t.Errorf("describeBuild:\n got %q\nwant %q", got, want)
	}
	if got := describeBuild("dev", nil); !strings.Contains(got, "commit:   unknown") || !strings.Contains(got, "go:       go") {
		t.Errorf("no build info: %q", got)
	}
}

// completion prints a script for bash, zsh and fish.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "# bash completion V2 for netchaos", "zsh": "#compdef netchaos", "fish": "# fish completion for netchaos"} {
		var out, errb bytes.Buffer
		if code := run([]string{"completion", shell}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), want) {
			t.Errorf("completion %s: exit %d, %.80q (stderr %q)", shell, code, out.String(), errb.String())
		}
	}
}
