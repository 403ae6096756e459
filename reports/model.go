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
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// SchemaVersion names the JSON model's version; Load refuses others.
const SchemaVersion = "netchaos.report/v2"

// Report is one run of the suite against one cluster.
type Report struct {
	SchemaVersion string       `json:"schema_version"`
	Run           RunMeta      `json:"run"`
	Environment   Env          `json:"environment"`
	Experiments   []Experiment `json:"experiments"`
	// FromV1 is set on a report read from a v1 file and judged again.
	FromV1 bool `json:"-"`
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
	// Provider is the provider the cluster was detected as: kind, eks,
	// ack, gke or unknown.
	Provider          string `json:"provider"`
	KubernetesVersion string `json:"kubernetes_version"`
	KubeProxyMode     string `json:"kube_proxy_mode"`
	// KubeProxyVersion is kube-proxy's release when its image names one.
	KubeProxyVersion string   `json:"kube_proxy_version,omitempty"`
	CNI              string   `json:"cni"`
	NodeOS           string   `json:"node_os"`
	Kernel           string   `json:"kernel"`
	Nodes            int      `json:"nodes"`
	Notes            []string `json:"notes,omitempty"`
}

// Verdict of one experiment.
type Verdict string

// Verdicts answer "does this cluster lose traffic when this happens?" (see
// Judge): vulnerable — a flow never recovered, or lost more than the budget;
// degraded — the failure bit (the flow lost more than its control flows) but
// let go within budget; resilient — no outage beyond what the trigger costs
// every flow. Whether the cluster matched the known-behaviour table is a
// separate question (Expectation.Conformance).
const (
	Resilient     Verdict = "resilient"
	Degraded      Verdict = "degraded"
	Vulnerable    Verdict = "vulnerable"
	NotApplicable Verdict = "not-applicable"
	Errored       Verdict = "error"
)

// Experiment is one experiment's outcome.
type Experiment struct {
	Name    string   `json:"name"`
	Title   string   `json:"title"`
	Trigger string   `json:"trigger"`
	Sources []string `json:"sources,omitempty"`
	Verdict Verdict  `json:"verdict"`
	Reason  string   `json:"reason,omitempty"`
	// Lab names the lab profile the cluster ran in when it is not a
	// release configuration (a positive control or its fixed twin).
	Lab string `json:"lab,omitempty"`
	// Mechanism is the documented failure the experiment reproduces.
	Mechanism *Mechanism `json:"mechanism,omitempty"`
	// Budget is the outage budget the verdict was judged against.
	Budget time.Duration `json:"budget_ns,omitempty"`
	// Inherent is the outage the trigger causes by design, not held
	// against the budget.
	Inherent time.Duration `json:"inherent_ns,omitempty"`
	// Interval is the probe interval (the resolution of every outage).
	Interval time.Duration `json:"interval_ns,omitempty"`
	// Tolerance is how much later than its control flows a flow may come
	// back and still count as recovering with them (at least Noise).
	Tolerance time.Duration `json:"tolerance_ns,omitempty"`
	Started   time.Time     `json:"started"`
	Finished  time.Time     `json:"finished"`
	Markers   []Marker      `json:"markers,omitempty"`
	Flows     []Flow        `json:"flows,omitempty"`
	// Expectations are expected versus observed, cell by cell: a flow's
	// outcome after a marker, or a reachability matrix cell.
	Expectations []Expectation `json:"expectations,omitempty"`
	Evidence     []Evidence    `json:"evidence,omitempty"`
	Actions      []Action      `json:"actions,omitempty"`
}

// Mechanism is a known failure: what breaks, where it is documented, and
// the mitigation known to work.
type Mechanism struct {
	Name       string `json:"name"`
	Source     string `json:"source,omitempty"`
	Mitigation string `json:"mitigation,omitempty"`
}

// Flow is one probe flow's measurements.
type Flow struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Control is set for a flow the failure does not bite (a fresh source
	// port per probe): what it loses, every flow loses.
	Control bool `json:"control,omitempty"`
	// Role is where the flow's client sits ("worker node", "outside the
	// cluster"): what lines flows up across clusters whose nodes differ.
	Role string `json:"role,omitempty"`
	// Verdict is the flow's in the trigger's window (see Judge).
	Verdict Verdict `json:"verdict,omitempty"`
	// Windows measure the flow after each marker (the trigger, then each
	// mitigation), each up to the next.
	Windows []Window `json:"windows,omitempty"`
	Stats   Stats    `json:"stats"`
	// Unlisted counts the outages left out of Stats.Outages to bound the
	// report (the shortest ones; Trim), and their time. Windows count them.
	Unlisted Unlisted `json:"unlisted,omitzero"`
	// Timeline is the flow's samples in compact form for drawing; optional
	// (renderers fall back to Stats.Outages).
	Timeline Timeline `json:"timeline,omitzero"`
}

// Unlisted is what Trim left out of a flow's outage list.
type Unlisted struct {
	Outages int           `json:"outages"`
	Lost    time.Duration `json:"lost_ns"`
}

// MaxListed is how many outages a flow lists in a report: a control flow of
// a busy run can have hundreds of single-probe losses.
const MaxListed = 40

// Trim bounds the flow's outage list to its MaxListed longest outages (an
// open one always stays), after Judge has measured them all.
func (f *Flow) Trim() {
	o := f.Stats.Outages
	if len(o) <= MaxListed {
		return
	}
	order := make([]int, len(o))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		if o[order[a]].Open != o[order[b]].Open {
			return o[order[a]].Open
		}
		return o[order[a]].Duration() > o[order[b]].Duration()
	})
	keep := map[int]bool{}
	for _, i := range order[:MaxListed] {
		keep[i] = true
	}
	var kept []Outage
	for i, x := range o {
		if keep[i] {
			kept = append(kept, x)
			continue
		}
		f.Unlisted.Outages++
		f.Unlisted.Lost += x.Duration()
	}
	f.Stats.Outages = kept
}

// Window is one flow's measurement from a marker to the next (or the end of
// observation).
type Window struct {
	Marker string    `json:"marker"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Lost is the time without answers in the window, ambient outages
	// aside; Outages counts them.
	Lost    time.Duration `json:"lost_ns"`
	Outages int           `json:"outages"`
	// Shared is the part of Lost the control flows lost at the same
	// instants: the trigger's own cost, not the mechanism's.
	Shared time.Duration `json:"shared_ns,omitempty"`
	// Ambient outages came after the window's first, while the control
	// flows were down too: noise on the cluster, not counted in Lost.
	Ambient        time.Duration `json:"ambient_ns,omitempty"`
	AmbientOutages int           `json:"ambient_outages,omitempty"`
	// Blips counts the outages (in Outages and Lost) of a probe or two
	// (BlipFor) that began and ended in the window: lost time, but nothing
	// to recover from, so they neither delay Recovered nor move StableAfter.
	Blips int `json:"blips,omitempty"`
	// DownAtStart is set when the flow was already down at the marker;
	// Carried is that outage's time in the window (beyond the controls').
	DownAtStart bool          `json:"down_at_start,omitempty"`
	Carried     time.Duration `json:"carried_ns,omitempty"`
	// Recovered is false when the flow never came back for good in the
	// window: it was never answered for Sustain on end after an outage
	// that was no blip.
	// DownAtEnd is set when it was down when the window closed (after
	// recovering, when Recovered is set too: a new outage, counted in Lost
	// as far as the window saw it).
	Recovered bool `json:"recovered"`
	DownAtEnd bool `json:"down_at_end,omitempty"`
	// StableAfter is from the marker to the end of the window's last
	// counted outage that was no blip: answers stayed up from then on, but
	// for blips (0: no such outage).
	StableAfter time.Duration `json:"stable_after_ns"`
	// OverBudget is set when the flow lost more than the budget beyond the
	// trigger's inherent outage.
	OverBudget bool    `json:"over_budget,omitempty"`
	Verdict    Verdict `json:"verdict"`
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
	// Conformance ranks a cell that differs from its expectation: better
	// (less loss than upstream describes), worse, or not triggered (the
	// fault never took hold); empty when it matches or has none.
	Conformance string `json:"conformance,omitempty"`
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
	// When is when it was captured: "before trigger", "after trigger",
	// "after <mitigation>", or a moment inside a step the experiment names.
	When string `json:"when"`
	Text string `json:"text"`
	// Shows names the mechanism this evidence is a sign of; empty for
	// plain state.
	Shows string `json:"shows,omitempty"`
}

// Short When values of Evidence (the runner writes "before trigger" and
// "after trigger").
const (
	Before = "before"
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
	if err := topLevel(b); err != nil {
		return nil, err
	}
	var head struct {
		SchemaVersion *string `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("not a netchaos report: %v", jsonProblem(err))
	}
	if head.SchemaVersion == nil {
		return nil, fmt.Errorf("%w: no schema_version field, want %q: not a netchaos report", ErrSchema, SchemaVersion)
	}
	if *head.SchemaVersion == schemaV1 {
		return upgradeV1(b)
	}
	if *head.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%w: schema_version %q, this netchaos reads %q (render it with the netchaos version that wrote it)", ErrSchema, *head.SchemaVersion, SchemaVersion)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("not a netchaos report: %v", jsonProblem(err))
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
		case Resilient, Degraded, Vulnerable, NotApplicable, Errored:
		default:
			return fmt.Errorf("experiment %s: verdict %q is not one of resilient, degraded, vulnerable, not-applicable, error (call Judge)", e.Name, e.Verdict)
		}
	}
	return nil
}

// schemaV1 reports (pass / fail / finding) are read by judging them again.
const schemaV1 = "netchaos.report/v1"

// upgradeV1 reads a v1 report and judges every experiment again with this
// version's verdicts, from the outages and markers it recorded. A v1 report
// does not say which flows were controls, so none is: shared outages are
// not told apart, and a flow is at worst judged degraded where a v2 run
// might say resilient. The report's notes say it was re-judged.
func upgradeV1(b []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("not a netchaos report: %v", jsonProblem(err))
	}
	r.SchemaVersion, r.FromV1 = SchemaVersion, true
	r.Environment.Notes = append(r.Environment.Notes, "re-judged from a "+schemaV1+" report: control flows unknown")
	for i := range r.Experiments {
		e := &r.Experiments[i]
		if e.Interval == 0 {
			e.Interval = 10 * time.Millisecond
		}
		rejudge(e)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// JSON renders the report as compact JSON, the form Load and Decode read.
// It refuses a report that does not Validate.
func JSON(w io.Writer, r *Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	// Compact: a full suite is ~0.5 MB, ~0.8 MB indented (jq . reads it).
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Write writes the report as compact JSON.
// It refuses a report that does not Validate.
func (r *Report) Write(path string) error {
	var b bytes.Buffer
	if err := JSON(&b, r); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// WriteDir writes report.json, report.md, summary.md (for a pull-request
// comment), report.html and junit.xml to dir.
func (r *Report) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := r.Write(filepath.Join(dir, "report.json")); err != nil {
		return err
	}
	for name, render := range map[string]func(*os.File, *Report) error{
		"report.md":   func(f *os.File, r *Report) error { return Markdown(f, r) },
		"summary.md":  func(f *os.File, r *Report) error { return MarkdownSummary(f, r, "report.md") },
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

// MarkControls marks, in a report read from a v1 file, the flows of each
// experiment that match its control patterns (path.Match, as the
// experiment's Info.Controls; the caller knows them, a v1 report does not)
// and judges it again. A v2 report is left as it is.
func (r *Report) MarkControls(controls func(experiment string) []string) {
	if !r.FromV1 {
		return
	}
	for i, n := range r.Environment.Notes {
		if strings.HasPrefix(n, "re-judged from a "+schemaV1) {
			r.Environment.Notes[i] = "re-judged from a " + schemaV1 + " report: control flows as this version of each experiment names them"
		}
	}
	for i := range r.Experiments {
		e := &r.Experiments[i]
		pats := controls(e.Name)
		if len(pats) == 0 {
			continue
		}
		for j := range e.Flows {
			for _, p := range pats {
				if ok, _ := path.Match(p, e.Flows[j].Name); ok {
					e.Flows[j].Control = true
				}
			}
		}
		rejudge(e)
	}
}

// rejudge judges a v1 experiment again, unless it did not run.
func rejudge(e *Experiment) {
	if e.Verdict == NotApplicable || e.Verdict == Errored {
		return
	}
	e.Verdict, e.Reason = "", ""
	Judge(e)
}
