package reports

import (
	_ "embed"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var htmlTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":       Dur,
	"headline":  func(e Experiment) []string { l, s := headline(e); return []string{l, s} },
	"words":     func(w Window) string { return w.words() },
	"mechanism": mechanismText,
	"bad":       func(v Verdict) bool { return v == Vulnerable || v == Degraded },
	"labname":   func(lab string) string { name, _, _ := strings.Cut(lab, ":"); return name },
	"mitigated": mitigationText,
	"outages":   outageList,
	"who":       responderText,
	"markers":   markerList,
	"env":       envLine,
	"expected":  expected,
	"match":     matchText,
	"name":      orName,
	"timeline":  timelineSVG,
	"open":      func(f Flow) bool { _, o := openOutage(f.Stats); return o },
	"upper":     func(v Verdict) string { return strings.ToUpper(string(v)) },
	"rfc3339":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"sub":       func(a, b time.Time) time.Duration { return a.Sub(b) },
	"or":        orUnknown,
	"deviation": func(x Expectation) bool { return x.Deviates() },
}).Parse(htmlTemplate))

// HTML renders one self-contained page (inline CSS and SVG; no scripts, no
// external resources): the summary table, and per experiment the expected
// versus observed table, an SVG timeline per flow (time relative to the
// first trigger marker, answered/lost bars, marker and recovery lines,
// responder changes), the flows table and the evidence. Deterministic.
func HTML(w io.Writer, r *Report) error { return page.Execute(w, r) }
