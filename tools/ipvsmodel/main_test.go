package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments/trafficpolicy"
)

func TestWrapperGoMod(t *testing.T) {
	kube := "module k8s.io/kubernetes\n\ngo 1.24.0\n\nrequire (\n\tk8s.io/api v0.0.0\n)\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/client-go => ./staging/src/k8s.io/client-go\n)\n"
	got, err := wrapperGoMod(kube, "v1.34.2", "/w/src")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"go 1.24.0\n", "require k8s.io/kubernetes v1.34.2\n", "replace k8s.io/kubernetes => /w/src\n",
		"\tk8s.io/api => k8s.io/api v0.34.2\n", "\tk8s.io/client-go => k8s.io/client-go v0.34.2\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("wrapper go.mod lacks %q:\n%s", want, got)
		}
	}
	if _, err := wrapperGoMod(kube, "1.34", "/w/src"); err == nil {
		t.Error("a version that is not v1.MINOR.PATCH was accepted")
	}
}

func TestApplyPatch(t *testing.T) {
	orig := "a\nb\nc\nd\ne\nf\n"
	patch := "--- a/x.go\n+++ b/x.go\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n@@ -5,2 +5,3 @@\n e\n+e2\n f\n"
	fps, err := parsePatch(patch)
	if err != nil || len(fps) != 1 || fps[0].path != "x.go" || len(fps[0].hunks) != 2 {
		t.Fatalf("parse: %+v %v", fps, err)
	}
	got, err := fps[0].apply(orig)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a\nb\nC\nd\ne\ne2\nf\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := fps[0].apply("a\nb\nX\nd\ne\nf\n"); err == nil {
		t.Error("a hunk whose context changed applied")
	}
}

// The recorded control patches apply to the released proxier. Needs the
// module in the Go module cache (tools/ipvsmodel downloads it).
func TestRecordedPatchesApply(t *testing.T) {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skip("no go env:", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "k8s.io", "kubernetes@"+trafficpolicy.ModelKubernetes, proxierPath)
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("k8s.io/kubernetes@%s is not in the module cache (make ipvs-model downloads it): %v", trafficpolicy.ModelKubernetes, err)
	}
	for _, v := range trafficpolicy.IPVSVariants {
		text := string(orig)
		for _, p := range v.Patches {
			b, err := os.ReadFile(filepath.Join("patches", p))
			if err != nil {
				t.Fatal(err)
			}
			fps, err := parsePatch(string(b))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for _, fp := range fps {
				if fp.path != proxierPath {
					t.Errorf("%s patches %s, only %s is restored between variants", p, fp.path, proxierPath)
				}
				if text, err = fp.apply(text); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
		}
		if len(v.Patches) > 0 && text == string(orig) {
			t.Errorf("%s: the patches changed nothing", v.File)
		}
	}
}
