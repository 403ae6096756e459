package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netchaos/netchaos/experiments/catalog"
)

// Bad input is one line on stderr and exit code 2, never a stack trace.
func TestBadInputIsOneLineExit2(t *testing.T) {
	cases := [][]string{
		{},
		{"frobnicate"},
		{"probe"},
		{"probe", "--bogus"},
		{"probe", "--flow", "x"},
		{"probe", "--flow", "a/udp-sticky/1.2.3.4:5"},
		{"probe", "--flow", "a/udp-pinned/1.2.3.4:5", "--rate", "-1"},
		{"probe", "--flow", "a/udp-pinned/1.2.3.4:5", "--flow", "a/udp-fresh/1.2.3.4:6"},
		{"echo"},
		{"janitor", "--namespace", "x", "--at", "tomorrow"},
		{"version", "extra"},
		{"list", "t9"},
		{"explain"},
		{"explain", "t1"},
		{"explain", "hostport-to-hostnetwork", "extra"},
		{"explain", "hostport-to-hostnetwork", "--minor", "30"},
		{"completion"},
		{"completion", "tcsh"},
		{"run", "-context", "x"},
		{"probe", "--flow", "a/udp-pinned/1.2.3.4:5", "--rate", "fast"},
		{"probe", "--flow", "a/udp-pinned/1.2.3.4:5", "--timeout", "5"},
		{"run", "--nodes", "99999999999999999999"},
		{"diff", "extra"},
	}
	for _, args := range cases {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
		if len(args) > 0 && strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
			t.Errorf("%q: want one line, got %q", args, errb.String())
		}
		if strings.Contains(errb.String(), "goroutine") || namesGoType(t, errb.String()) || strings.Contains(errb.String(), "strconv.") {
			t.Errorf("%q: stack trace or Go names: %q", args, errb.String())
		}
	}
}

// Two --flow with one name are refused before any probe is sent: their
// samples could not be told apart.
func TestProbeRejectsDuplicateFlowNames(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"probe", "--duration", "1ms", "--flow", "a/udp-pinned/127.0.0.1:9", "--flow", "a/tcp-new/127.0.0.1:9"}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), `flow name "a" given twice`) || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 naming flow \"a\" and no samples", code, out.String(), errb.String())
	}
}

// Help goes to stdout, spelt --flag, and exits 0; no command is bad input
// and shows the help on stderr.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"probe", "-h"}, {"probe", "--help"}, {"help", "probe"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 || !strings.Contains(out.String(), "--flow") || errb.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 0 and the probe flags on stdout", args, code, out.String(), errb.String())
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 0 || !strings.Contains(out.String(), "explain") || !strings.Contains(out.String(), "--version") {
			t.Errorf("%q: exit %d, stdout %q; want exit 0 and every command on stdout", args, code, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "Available Commands") {
		t.Errorf("no command: exit %d, stdout %q, stderr %q; want exit 2 and the help on stderr", code, out.String(), errb.String())
	}
}

// An unknown command is one line suggesting the closest one.
func TestUnknownCommandSuggests(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"rnu"}, &out, &errb)
	if msg := errb.String(); code != 2 || msg != "netchaos: unknown command \"rnu\" (did you mean run?)\n" {
		t.Errorf("exit %d, stderr %q", code, msg)
	}
}

func TestBudgetsFileErrorsNameEveryField(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/b.yaml"
	os.WriteFile(path, []byte("budgets:\n  default: ten\n  t9-foo: 5s\n  udp-recreate-lb: -3s\n  hostport-to-hostnetwork: 30s\n"), 0o644)
	_, err := loadBudgets(path, catalog.All())
	if err == nil {
		t.Fatal("want an error")
	}
	for _, field := range []string{"budgets.default", "budgets.t9-foo", "budgets.udp-recreate-lb"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	os.WriteFile(path, []byte("budgets:\n  default: 10s\n  hostport-to-hostnetwork: 30s\n"), 0o644)
	b, err := loadBudgets(path, catalog.All())
	if err != nil || b["hostport-to-hostnetwork"].Seconds() != 30 || b["udp-recreate-lb"].Seconds() != 10 {
		t.Fatalf("budgets = %v, %v", b, err)
	}
}

// A budgets file of the wrong shape (flat, empty, a list, a value where a
// map belongs) is one line in the file's terms, never the Go type it did
// not fit.
func TestBudgetsFileShapeErrors(t *testing.T) {
	want := "expected a top-level 'budgets:' map of experiment: duration"
	for _, tc := range []struct{ content, want string }{
		{"", "empty file, " + want},
		{"# no budgets yet\n", "empty file, " + want},
		{"default: 10s\n", "unknown top-level key default (line 1): " + want + " (indent the entries under 'budgets:')"},
		{"default: 10s\nhostport-to-hostnetwork: 30s\n", "unknown top-level keys default (line 1), hostport-to-hostnetwork (line 2): " + want},
		{"budgets:\n  default: 10s\nextra: 1\n", "unknown top-level key extra (line 3): " + want},
		{"- default: 10s\n", want + ", got a list"},
		{"just text\n", want + `, got the value "just text"`},
		{"budgets: 10s\n", `budgets (line 1): expected a map of experiment: duration, got the value "10s"`},
		{"budgets:\n  - default: 10s\n", "budgets (line 1): expected a map of experiment: duration, got a list"},
		{"budgets:\n  default: {a: 1}\n  udp-recreate-lb: [1]\n", "budgets.default: expected a duration like 10s, got a map; budgets.udp-recreate-lb: expected a duration like 10s, got a list"},
		{"budgets:\n  default: 10s\n  default: 5s\n", "budgets.default: given twice (lines 2 and 3)"},
		{"budgets: {}\nbudgets: {}\n", "top-level key budgets given twice (lines 1 and 2)"},
		{"budgets: [\n", "not valid YAML: "},
	} {
		path := filepath.Join(t.TempDir(), "b.yaml")
		os.WriteFile(path, []byte(tc.content), 0o644)
		_, err := loadBudgets(path, catalog.All())
		if err == nil {
			t.Errorf("%q: no error", tc.content)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "budgets "+path+": ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
			t.Errorf("%q:\n got  %q\n want one line with %q", tc.content, msg, tc.want)
		}
		if namesGoType(t, msg) {
			t.Errorf("%q: names a Go type: %q", tc.content, msg)
		}
	}
	// Empty budgets stay valid: no budget is set.
	for _, ok := range []string{"budgets:\n", "{}\n", "budgets: {}\n"} {
		path := filepath.Join(t.TempDir(), "b.yaml")
		os.WriteFile(path, []byte(ok), 0o644)
		if b, err := loadBudgets(path, catalog.All()); err != nil || len(b) != 0 {
			t.Errorf("%q: %v, %v; want no budgets and no error", ok, b, err)
		}
	}
}

// The target cluster is named one way, explicitly: --in-cluster excludes
// --kubeconfig and --context; report flags are checked before any cluster
// is touched. Each refusal is one line naming the problem, exit code 2.
func TestClusterAndReportFlags(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())           // no ~/.kube/config
	t.Setenv("KUBERNETES_SERVICE_HOST", "") // not in a pod
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--in-cluster", "--context", "kind-x"}, "--in-cluster excludes --kubeconfig and --context"},
		{[]string{"cleanup", "--in-cluster", "--kubeconfig", "/k"}, "--in-cluster excludes --kubeconfig and --context"},
		{[]string{"run", "--in-cluster"}, "in-cluster config"},
		{[]string{"cleanup"}, "no kubeconfig"},
		{[]string{"cleanup", "--kubeconfig", "/k"}, "no --context"},
		{[]string{"run", "--in-cluster", "--keep-reports", "3"}, "--keep-reports needs --report-namespace"},
		{[]string{"run", "--in-cluster", "--report-namespace", "ns", "--keep-reports", "-1"}, "--keep-reports needs --report-namespace"},
		{[]string{"report"}, "exactly one of --in and --from-configmap"},
		{[]string{"report", "--in", "r.json", "--from-configmap", "ns/name"}, "exactly one of --in and --from-configmap"},
		{[]string{"report", "--from-configmap", "name-only"}, "want NAMESPACE/NAME"},
		{[]string{"report", "--from-configmap", "ns/name", "--in-cluster", "--context", "c"}, "--in-cluster excludes"},
		{[]string{"report", "--in", "r.json", "--format", "pdf"}, "want md, summary, html, junit or json"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		msg := strings.TrimSpace(errb.String())
		if code != 2 || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line containing %q", c.args, code, msg, c.want)
		}
	}
}

// report --format json writes what diff reads back.
func TestReportJSONFeedsDiff(t *testing.T) {
	in := "../../reports/examples/kind-v1.34.2-iptables/report.json"
	out := t.TempDir() + "/r.json"
	var o, e bytes.Buffer
	if code := run([]string{"report", "--in", in, "--format", "json", "--out", out}, &o, &e); code != 0 {
		t.Fatalf("report --format json: exit %d: %s", code, e.String())
	}
	o.Reset()
	if code := run([]string{"diff", "--before", in, "--after", out}, &o, &e); code != 0 {
		t.Fatalf("diff: exit %d: %s", code, e.String())
	}
	if !strings.Contains(o.String(), "#") {
		t.Errorf("diff printed no markdown: %q", o.String())
	}
}

// An unreachable API server is a cluster error (exit 3), not a failed gate
// (1) nor bad input (2); cleanup says nothing was removed only when it ran.
func TestUnreachableClusterExits3(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(kc, []byte(unreachable), 0o600)
	for _, args := range [][]string{
		{"run", "--kubeconfig", kc, "--context", "nowhere", "--experiments", "t1"},
		{"cleanup", "--kubeconfig", kc, "--context", "nowhere"},
	} {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		msg := strings.TrimSpace(errb.String())
		if code != 3 || strings.Contains(msg, "\n") || !strings.Contains(msg, "nowhere") || strings.Contains(out.String(), "0 objects removed") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 3 and one line naming the cluster", args[0], code, out.String(), msg)
		}
	}
}

// A file that is not a report, given to report or diff, is one line saying
// what was expected, in the file's own terms: no Go type names.
func TestNotAReportSaysWhatWasExpected(t *testing.T) {
	dir := t.TempDir()
	good := "../../reports/examples/kind-v1.34.2-iptables/report.json"
	for _, tc := range []struct{ content, want string }{
		{`[]`, "report.json: expected a netchaos report (a JSON object), got an array"},
		{``, "report.json: empty file, expected a netchaos report (a JSON object)"},
		{`{"schema_version": "netchaos.report/v2", "experiments": {"a": 1}}`, "report.json: not a netchaos report: field experiments: expected an array, got an object"},
	} {
		path := filepath.Join(dir, "report.json")
		os.WriteFile(path, []byte(tc.content), 0o644)
		for _, args := range [][]string{
			{"report", "--in", path},
			{"diff", "--before", good, "--after", path},
		} {
			var out, errb bytes.Buffer
			code := run(args, &out, &errb)
			msg := strings.TrimSpace(errb.String())
			if code != 2 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("%s on %q: exit %d, stderr %q; want exit 2 and one line containing %q", args[0], tc.content, code, msg, tc.want)
			}
			if namesGoType(t, msg) {
				t.Errorf("%s on %q: stderr names a Go type: %q", args[0], tc.content, msg)
			}
		}
	}
}

// namesGoType reports whether msg reads like an encoding/json or yaml.v3
// message about Go types rather than the file.
func namesGoType(t *testing.T, msg string) bool {
	t.Helper()
	for _, s := range []string{"Go value", "Go struct", "of type", "reports.", "main.", "time.Duration", "struct {", "map[string]", "[]string", "!!"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
