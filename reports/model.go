// Package reports is the resilience report: a versioned JSON model of a run
// (environment, and per experiment its verdict, outages, expected versus
// observed outcomes and evidence) and its renderers — Markdown, JUnit XML and
// one self-contained HTML page with an SVG timeline per flow. Renderers are
// pure and deterministic: they never reach back into a cluster or read the
// clock.
//
// Verdicts (see Assess): a flow still down when its window closed, or an
// outage longer than the experiment's budget, fails; a deviation from the
// expected table within budget is a finding; ExitCode gates on fail and
// error only.
//
// Time offsets in every rendering are relative to the experiment's first
// trigger marker; durations have millisecond precision ("12 ms", "1.234 s");
// an open outage is always "never recovered within the <window> window",
// never a finite length.
package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	Run           RunMeta      `json:"run"`
	Environment   Env          `json:"environment"`
	Experiments   []Experiment `json:"experiments"`
}

// RunMeta is the run's metadata: its ID, the tool version that ran it, the
// kube context it ran against and when.
type RunMeta struct {
	ID       string    `json:"id"`
	Tool     string    `json:"tool"`
	Context  string    `json:"context"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
}

// Env is the cluster fingerprint the expectations were chosen by.
type Env struct {
	// Provider is one of the Provider* constants.
	Provider          string   `json:"provider"`
	KubernetesVersion string   `json:"kubernetes_version"`
	KubeProxyMode     string   `json:"kube_proxy_mode"`
	CNI               string   `json:"cni"`
	NodeOS            string   `json:"node_os"`
	Kernel            string   `json:"kernel"`
	Nodes             int      `json:"nodes"`
	Notes             []string `json:"notes,omitempty"`
}

// Providers a cluster can be detected as.
const (
	ProviderKind    = "kind"
	ProviderEKS     = "eks"
	ProviderACK     = "ack"
	ProviderUnknown = "unknown"
)

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
	// Expectations are expected versus observed, cell by cell: a flow's
	// outcome after a marker, or a reachability matrix cell.
	Expectations []Expectation `json:"expectations,omitempty"`
	Evidence     []Evidence    `json:"evidence,omitempty"`
	Actions      []Action      `json:"actions,omitempty"`
}

// Flow is one probe flow's measurements.
type Flow struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Stats       probe.FlowStats `json:"stats"`
	// Timeline is the flow's samples in compact form for drawing; optional
	// (renderers fall back to Stats.Outages).
	Timeline Timeline `json:"timeline,omitzero"`
}

// Expectation is one expected-versus-observed cell: a flow's outcome after a
// marker ("worker/pinned after trigger") or a reachability matrix cell
// ("pod-no-endpoint → LB IP, policy Local").
type Expectation struct {
	Case string `json:"case"`
	// Expected is empty when the environment has no expectation for the case.
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed"`
	Match    bool   `json:"match"`
	// Source is the upstream issue or PR the expectation comes from.
	Source string `json:"source,omitempty"`
	// Verdict is "vulnerable" when the cell (a reachability matrix cell)
	// loses traffic or the client's source IP where a user would expect it
	// not to; empty when it does not.
	Verdict string `json:"verdict,omitempty"`
}

// Deviates reports whether the cell had an expectation that was not met.
func (x Expectation) Deviates() bool { return x.Expected != "" && !x.Match }

// Evidence is captured state (conntrack entries, NAT rules, ip rules).
type Evidence struct {
	Name string `json:"name"`
	// When is before, during or after (the trigger).
	When string `json:"when"`
	Text string `json:"text"`
	// Shows names the mechanism this evidence is a sign of; empty for
	// plain state.
	Shows string `json:"shows,omitempty"`
}

// When values of Evidence.
const (
	Before = "before"
	During = "during"
	After  = "after"
)

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
	r, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// ErrSchema is wrapped by Load and Decode when a file is not a report of
// SchemaVersion.
var ErrSchema = errors.New("unsupported report schema")

// Decode parses a JSON report and checks its schema version.
func Decode(b []byte) (*Report, error) {
	var head struct {
		SchemaVersion *string `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not a netchaos report: %v", err)
	}
	if head.SchemaVersion == nil {
		return nil, fmt.Errorf("%w: no schema_version field, want %q: not a netchaos report", ErrSchema, SchemaVersion)
	}
	if *head.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%w: schema_version %q, this netchaos reads %q (render it with the netchaos version that wrote it)", ErrSchema, *head.SchemaVersion, SchemaVersion)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("not a netchaos report: %v", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks the schema version and that every experiment has a name
// and a known verdict.
func (r *Report) Validate() error {
	if r.SchemaVersion != SchemaVersion {
		return fmt.Errorf("%w: schema_version %q, want %q", ErrSchema, r.SchemaVersion, SchemaVersion)
	}
	for i, e := range r.Experiments {
		if e.Name == "" {
			return fmt.Errorf("experiment %d has no name", i)
		}
		switch e.Verdict {
		case Pass, Fail, Finding, NotApplicable, Errored:
		default:
			return fmt.Errorf("experiment %s: verdict %q is not one of pass, fail, finding, not-applicable, error (call Judge)", e.Name, e.Verdict)
		}
	}
	return nil
}

// JSON renders the report as indented JSON, the form Load and Decode read.
// It refuses a report that does not Validate.
func JSON(w io.Writer, r *Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Write writes the report as indented JSON.
// It refuses a report that does not Validate.
func (r *Report) Write(path string) error {
	var b bytes.Buffer
	if err := JSON(&b, r); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
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
