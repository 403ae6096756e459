// Package reports is the resilience report: a versioned JSON model of a run
// (environment, and per experiment its verdict, outages, expected versus
// observed outcomes and evidence) and its renderers — Markdown, JUnit XML and
// one self-contained HTML page with an SVG timeline per flow. Renderers are
// pure: they never reach back into a cluster.
package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/netchaos/netchaos/experiments/probe"
)

// SchemaVersion names the JSON model's version; Load refuses others.
const SchemaVersion = "netchaos.report/v1"

// Report is one run of the suite against one cluster.
type Report struct {
	SchemaVersion string       `json:"schema_version"`
	Run           Run          `json:"run"`
	Environment   Environment  `json:"environment"`
	Experiments   []Experiment `json:"experiments"`
}

// Run is the run's metadata.
type Run struct {
	ID       string    `json:"id"`
	Tool     string    `json:"tool"`
	Context  string    `json:"context"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
}

// Environment is the cluster fingerprint the expectations were chosen by.
type Environment struct {
	Provider          string   `json:"provider"`
	KubernetesVersion string   `json:"kubernetes_version"`
	KubeProxyMode     string   `json:"kube_proxy_mode"`
	CNI               string   `json:"cni"`
	NodeOS            string   `json:"node_os"`
	Kernel            string   `json:"kernel"`
	Nodes             int      `json:"nodes"`
	Notes             []string `json:"notes,omitempty"`
}

// Verdict of one experiment.
type Verdict string

// Verdicts. Finding: the cluster behaved differently from the expected table
// but within the budget — worth reading, not a failure.
const (
	Pass          Verdict = "pass"
	Fail          Verdict = "fail"
	Finding       Verdict = "finding"
	NotApplicable Verdict = "not-applicable"
	Errored       Verdict = "error"
)

// Experiment is one experiment's outcome.
type Experiment struct {
	Name     string         `json:"name"`
	Title    string         `json:"title"`
	Trigger  string         `json:"trigger"`
	Sources  []string       `json:"sources,omitempty"`
	Verdict  Verdict        `json:"verdict"`
	Reason   string         `json:"reason,omitempty"`
	Budget   time.Duration  `json:"budget_ns,omitempty"`
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Markers  []probe.Marker `json:"markers,omitempty"`
	Flows    []Flow         `json:"flows,omitempty"`
	Cells    []Cell         `json:"cells,omitempty"`
	Evidence []Evidence     `json:"evidence,omitempty"`
	Actions  []Action       `json:"actions,omitempty"`
}

// Flow is one probe flow's measurements.
type Flow struct {
	Name     string          `json:"name"`
	Stats    probe.FlowStats `json:"stats"`
	Checks   []Check         `json:"checks,omitempty"`
	Timeline Timeline        `json:"timeline"`
}

// Check is what a flow did after one marker, against its expectation.
type Check struct {
	Marker   string `json:"marker"`
	Outcome  string `json:"outcome"`  // no outage, recovers, never recovers, never reached
	Observed string `json:"observed"` // in words, with times
	Expected string `json:"expected,omitempty"`
	Match    bool   `json:"match"`
	Source   string `json:"source,omitempty"`
	// Never is set when the flow had not recovered when the window closed.
	Never bool `json:"never,omitempty"`
}

// Cell is an expected-versus-observed row that is not a flow (a
// reachability matrix cell).
type Cell struct {
	Case     string `json:"case"`
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed"`
	Match    bool   `json:"match"`
	Source   string `json:"source,omitempty"`
}

// Evidence is captured state (conntrack entries, NAT rules, ip rules).
type Evidence struct {
	Name string `json:"name"`
	When string `json:"when"`
	Text string `json:"text"`
}

// Action is one step the run took.
type Action struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
	Err  string    `json:"err,omitempty"`
}

// Load reads a report and checks its schema version.
func Load(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a netchaos report: %v", path, err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: schema %q, this netchaos reads %q", path, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// Write writes the report as indented JSON.
func (r *Report) Write(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// WriteDir writes report.json, report.md, report.html and junit.xml to dir.
func (r *Report) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := r.Write(filepath.Join(dir, "report.json")); err != nil {
		return err
	}
	for name, render := range map[string]func(*os.File, *Report) error{
		"report.md":   func(f *os.File, r *Report) error { return Markdown(f, r) },
		"report.html": func(f *os.File, r *Report) error { return HTML(f, r) },
		"junit.xml":   func(f *os.File, r *Report) error { return JUnit(f, r) },
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		err = render(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
	}
	return nil
}
