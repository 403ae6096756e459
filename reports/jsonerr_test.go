package reports

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// goTypeName matches what encoding/json would have said: "Go value of
// type", "Go struct field", or a package-qualified type (reports.Report,
// []reports.Experiment, time.Duration).
var goTypeName = regexp.MustCompile(`Go value|Go struct|of type|\b(reports|json|time)\.[A-Z]\w*|struct \{`)

// A file that is not a report is named in the report's own terms: what was
// expected, what was found, and where; never the Go type it did not fit.
func TestLoadSaysWhatWasExpectedNotTheGoType(t *testing.T) {
	v2 := `{"schema_version": "netchaos.report/v2", `
	for _, tc := range []struct{ in, want string }{
		{``, "report.json: empty file, expected a netchaos report (a JSON object)"},
		{"\n  \n", "report.json: empty file, expected a netchaos report (a JSON object)"},
		{`[]`, "report.json: expected a netchaos report (a JSON object), got an array"},
		{`[{"schema_version": "netchaos.report/v2"}]`, "report.json: expected a netchaos report (a JSON object), got an array"},
		{`"report"`, "report.json: expected a netchaos report (a JSON object), got a string"},
		{`42`, "report.json: expected a netchaos report (a JSON object), got a number"},
		{`null`, "report.json: expected a netchaos report (a JSON object), got null"},
		{`true`, "report.json: expected a netchaos report (a JSON object), got true or false"},
		{`not json`, "report.json: not a netchaos report: not valid JSON at byte 2: invalid character 'o' in literal null (expecting 'u')"},
		{`{`, "report.json: not a netchaos report: not valid JSON at byte 1: unexpected end of JSON input"},
		{`{"schema_version": 2}`, "report.json: not a netchaos report: field schema_version: expected a string, got a number"},
		{v2 + `"experiments": {}}`, "report.json: not a netchaos report: field experiments: expected an array, got an object"},
		{v2 + `"experiments": [{"name": "a", "verdict": "resilient", "budget_ns": "10s"}]}`,
			"report.json: not a netchaos report: field experiments.budget_ns: expected a whole number, got a string"},
		{v2 + `"experiments": [{"name": "a", "verdict": "resilient", "flows": [{"timeline": 5}]}]}`,
			"report.json: not a netchaos report: field experiments.flows.timeline: expected an object, got a number"},
		{`{"schema_version": "netchaos.report/v1", "experiments": 3}`, "report.json: not a netchaos report: field experiments: expected an array, got a number"},
	} {
		path := filepath.Join(t.TempDir(), "report.json")
		if err := os.WriteFile(path, []byte(tc.in), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		if err == nil {
			t.Errorf("%q: no error", tc.in)
			continue
		}
		msg := strings.TrimPrefix(err.Error(), filepath.Dir(path)+string(filepath.Separator))
		if msg != tc.want {
			t.Errorf("%q:\n got  %q\n want %q", tc.in, msg, tc.want)
		}
		if goTypeName.MatchString(msg) || strings.Contains(msg, "\n") {
			t.Errorf("%q: message names a Go type or is not one line: %q", tc.in, msg)
		}
	}
}
