// Command ipvsmodel records kube-proxy's IPVS proxier state for T4's
// scenario: it runs the real proxier of k8s.io/kubernetes (pkg/proxy/ipvs)
// against the package's own fakes, as released and as the patched controls
// of trafficpolicy.IPVSVariants, and writes (or checks) the recorded models
// that experiments/trafficpolicy embeds and turns into the IPVS rows of the
// matrix.
//
//	go run ./tools/ipvsmodel            # regenerate experiments/trafficpolicy/ipvs/*.json
//	go run ./tools/ipvsmodel -check     # fail if the committed models differ from the proxier's output
//	go run ./tools/ipvsmodel -report d  # write the recorded models' matrices as netchaos reports under d/<model>
//	go run ./tools/ipvsmodel -compare 'iptables=a/report.json,nftables=b/report.json' [-compare-out m.md]
//	                                    # measured T4 matrices beside the modelled IPVS ones, and where they differ
//
// -report and -compare read the recorded models only (no proxier run).
//
// How (no IPVS kernel needed): a wrapper Go module requires
// k8s.io/kubernetes at trafficpolicy.ModelKubernetes with its staging
// modules pinned (as tools/cluster/build-k8s.sh does) and replaces it with a
// writable copy of the module, into which the oracle test
// (testdata/oracle/zz_netchaos_oracle_test.go) is copied next to the proxier; `go
// test -overlay` cannot be used, Go refuses overlays of module-cache files.
// For each variant proxier.go is restored from the module cache and the
// variant's recorded patches (patches/*.patch) are applied. The copy and
// the build cache live under -work (default _out/ipvsmodel): the first run
// downloads the module and compiles the proxier's test dependencies
// (minutes), later runs recompile one package (seconds).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/netchaos/netchaos/experiments/trafficpolicy"
)

func main() {
	here := sourceDir()
	repo := filepath.Join(here, "..", "..")
	out := flag.String("out", filepath.Join(repo, "experiments", "trafficpolicy", "ipvs"), "directory of the recorded models")
	work := flag.String("work", filepath.Join(repo, "_out", "ipvsmodel"), "work directory (module copy, wrapper module)")
	check := flag.Bool("check", false, "compare with the recorded models instead of writing them; exit 1 if they differ")
	report := flag.String("report", "", "write each recorded model's matrix as a netchaos report under this directory")
	compare := flag.String("compare", "", "label=report.json,... of measured T4 runs to set beside the models")
	compareOut := flag.String("compare-out", "", "file for -compare (default stdout)")
	flag.Parse()
	var err error
	if *report != "" || *compare != "" {
		err = offline(*report, *compare, *compareOut)
	} else {
		err = run(here, *out, *work, *check)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ipvsmodel:", err)
		os.Exit(1)
	}
}

// sourceDir is this command's directory (patches and the oracle live here).
// Built with -trimpath (the Makefile's flags) the file name is relative to
// the module, whose root make runs from.
func sourceDir() string {
	_, f, _, ok := runtime.Caller(0)
	if ok && filepath.IsAbs(f) {
		return filepath.Dir(f)
	}
	return filepath.Join("tools", "ipvsmodel")
}

// offline writes reports and comparisons from the recorded models.
func offline(report, compare, compareOut string) error {
	var models []column
	for _, v := range trafficpolicy.IPVSVariants {
		m, err := trafficpolicy.LoadIPVSModel(v.File)
		if err != nil {
			return err
		}
		if report != "" {
			dir := filepath.Join(report, "model-ipvs-"+strings.TrimSuffix(v.File, ".json"))
			if err := writeReport(dir, *m, v); err != nil {
				return err
			}
			fmt.Printf("ipvsmodel: wrote %s\n", dir)
		}
		col, err := modelColumn(v)
		if err != nil {
			return err
		}
		models = append(models, col)
	}
	if compare == "" {
		return nil
	}
	var measured []column
	for _, spec := range strings.Split(compare, ",") {
		label, path, ok := strings.Cut(spec, "=")
		if !ok {
			return fmt.Errorf("-compare %q: want label=report.json", spec)
		}
		col, err := measuredColumn(label, path)
		if err != nil {
			return err
		}
		measured = append(measured, col)
	}
	w := os.Stdout
	if compareOut != "" {
		f, err := os.Create(compareOut)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	compareMarkdown(w, measured, models)
	return nil
}

func run(here, out, work string, check bool) error {
	t0 := time.Now()
	version := trafficpolicy.ModelKubernetes
	vw, err := prepare(here, work, version)
	if err != nil {
		return err
	}
	sc := trafficpolicy.Scenario()
	scJSON, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return err
	}
	scFile := filepath.Join(vw.dir, "scenario.json")
	if err := os.WriteFile(scFile, scJSON, 0o644); err != nil {
		return err
	}
	var differ []string
	for _, v := range trafficpolicy.IPVSVariants {
		t := time.Now()
		if err := vw.restore(); err != nil {
			return err
		}
		for _, p := range v.Patches {
			if err := applyPatchFile(filepath.Join(here, "patches", p), vw.src); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		nodes, err := vw.oracle(scFile)
		if err != nil {
			return fmt.Errorf("%s: %w", v.File, err)
		}
		m := trafficpolicy.IPVSModel{Kubernetes: version, Variant: v.Variant, Patches: v.Patches, Scenario: sc, Nodes: nodes}
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if _, err := m.Cells(); err != nil {
			return fmt.Errorf("%s: the recorded state does not walk: %w", v.File, err)
		}
		dst := filepath.Join(out, v.File)
		if check {
			old, err := os.ReadFile(dst)
			if err != nil || !bytes.Equal(old, b) {
				differ = append(differ, v.File)
				tmp := filepath.Join(vw.dir, v.File)
				os.WriteFile(tmp, b, 0o644)
				fmt.Printf("ipvsmodel: %s DIFFERS from the proxier's output (now in %s)\n", dst, tmp)
				continue
			}
			fmt.Printf("ipvsmodel: %s matches kube-proxy %s's proxier (%s, %.1fs)\n", v.File, version, v.Variant, time.Since(t).Seconds())
		} else {
			if err := os.WriteFile(dst, b, 0o644); err != nil {
				return err
			}
			fmt.Printf("ipvsmodel: wrote %s (%s, %.1fs)\n", dst, v.Variant, time.Since(t).Seconds())
		}
	}
	if err := vw.restore(); err != nil {
		return err
	}
	fmt.Printf("ipvsmodel: done in %.0fs\n", time.Since(t0).Seconds())
	if len(differ) > 0 {
		return fmt.Errorf("%d recorded model(s) differ from kube-proxy's proxier: %s (regenerate with `go run ./tools/ipvsmodel` and review the diff)", len(differ), strings.Join(differ, ", "))
	}
	return nil
}

// versionWork is the work area of one Kubernetes version.
type versionWork struct {
	dir      string // work/<version>
	src      string // the writable module copy
	mod      string // the wrapper module
	pristine string // the module cache's proxier.go
}

const proxierPath = "pkg/proxy/ipvs/proxier.go"

var versionRe = regexp.MustCompile(`^v1\.(\d+)\.(\d+)$`)

// prepare downloads the module, makes the writable copy and the wrapper
// module, and places the oracle test.
func prepare(here, work, version string) (*versionWork, error) {
	m := versionRe.FindStringSubmatch(version)
	if m == nil {
		return nil, fmt.Errorf("version %q is not v1.MINOR.PATCH", version)
	}
	vw := &versionWork{dir: filepath.Join(work, version)}
	vw.src, vw.mod = filepath.Join(vw.dir, "src"), filepath.Join(vw.dir, "mod")
	if err := os.MkdirAll(vw.mod, 0o755); err != nil {
		return nil, err
	}
	kdir, err := moduleDir(vw.dir, version)
	if err != nil {
		return nil, err
	}
	vw.pristine = filepath.Join(kdir, proxierPath)
	stamp := filepath.Join(vw.dir, "src.done")
	if _, err := os.Stat(stamp); err != nil {
		fmt.Printf("ipvsmodel: copying %s to %s\n", kdir, vw.src)
		os.RemoveAll(vw.src)
		if err := copyTree(kdir, vw.src); err != nil {
			return nil, err
		}
		if err := os.WriteFile(stamp, nil, 0o644); err != nil {
			return nil, err
		}
	}
	gomod, err := os.ReadFile(filepath.Join(kdir, "go.mod"))
	if err != nil {
		return nil, err
	}
	wrapper, err := wrapperGoMod(string(gomod), version, vw.src)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(vw.mod, "go.mod"), []byte(wrapper), 0o644); err != nil {
		return nil, err
	}
	oracle, err := os.ReadFile(filepath.Join(here, "testdata", "oracle", "zz_netchaos_oracle_test.go"))
	if err != nil {
		return nil, err
	}
	return vw, os.WriteFile(filepath.Join(vw.src, "pkg", "proxy", "ipvs", "zz_netchaos_oracle_test.go"), oracle, 0o644)
}

// moduleDir downloads k8s.io/kubernetes@version through the Go module proxy
// and returns its directory in the module cache.
func moduleDir(dir, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@"+version)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(b, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("k8s.io/kubernetes@%s: %s", version, info.Error)
	}
	if err != nil || info.Dir == "" {
		return "", fmt.Errorf("go mod download k8s.io/kubernetes@%s: %v %s", version, err, stderr.String())
	}
	return info.Dir, nil
}

// wrapperGoMod is the wrapper module: it requires k8s.io/kubernetes at
// version, replaces it with the writable copy and pins every staging module
// the kubernetes go.mod replaces with ./staging to v0.MINOR.PATCH. Never
// `go mod tidy` it.
func wrapperGoMod(kubeGoMod, version, src string) (string, error) {
	m := versionRe.FindStringSubmatch(version)
	if m == nil {
		return "", fmt.Errorf("version %q is not v1.MINOR.PATCH", version)
	}
	goLine := ""
	var staging []string
	for _, l := range strings.Split(kubeGoMod, "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] == "go" && goLine == "" {
			goLine = l
		}
		if len(f) >= 3 && strings.Contains(l, "=> ./staging") {
			staging = append(staging, f[0])
		}
	}
	if goLine == "" || len(staging) == 0 {
		return "", errors.New("k8s.io/kubernetes go.mod has no go line or no staging replaces")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module local/netchaosipvsmodel\n\n%s\n\nrequire k8s.io/kubernetes %s\n\nreplace k8s.io/kubernetes => %s\n\nreplace (\n", goLine, version, src)
	for _, s := range staging {
		fmt.Fprintf(&b, "\t%s => %s v0.%s.%s\n", s, s, m[1], m[2])
	}
	b.WriteString(")\n")
	return b.String(), nil
}

// restore puts the released proxier.go back into the copy.
func (vw *versionWork) restore() error {
	b, err := os.ReadFile(vw.pristine)
	if err != nil {
		return err
	}
	dst := filepath.Join(vw.src, proxierPath)
	if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, b) {
		return nil // unchanged: keep its mtime, and the build cache warm
	}
	return os.WriteFile(dst, b, 0o644)
}

// oracle runs the oracle test and returns the per-node state it recorded.
func (vw *versionWork) oracle(scenario string) (map[string]trafficpolicy.ProxierState, error) {
	state := filepath.Join(vw.dir, "state.json")
	os.Remove(state)
	// The flags tools/cluster/build-k8s.sh builds Kubernetes with: the
	// packages both compile (staging modules, third-party) then come from
	// one build cache entry, whichever of the two runs first.
	cmd := exec.Command("go", "test", "-count=1", "-trimpath", "-tags", "selinux,notest,grpcnotrace",
		"-run", "^TestNetchaosIPVSOracle$", "k8s.io/kubernetes/pkg/proxy/ipvs")
	cmd.Dir = vw.mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0", "NETCHAOS_IPVS_SCENARIO="+scenario, "NETCHAOS_IPVS_STATE="+state)
	outb, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("oracle: %v\n%s", err, tail(string(outb), 40))
	}
	b, err := os.ReadFile(state)
	if err != nil {
		return nil, fmt.Errorf("oracle wrote no state (was it skipped?): %v\n%s", err, tail(string(outb), 20))
	}
	var nodes map[string]trafficpolicy.ProxierState
	return nodes, json.Unmarshal(b, &nodes)
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// copyTree copies a directory tree, leaving every file writable.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
