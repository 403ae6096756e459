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
	"dur":      Dur,
	"rel":      Rel,
	"worst":    worst,
	"timeline": timelineSVG,
	"outages":  outages,
	"who":      responders,
	"t0":       func(e Experiment) time.Time { return e.triggerAt() },
	"upper":    func(v Verdict) string { return strings.ToUpper(string(v)) },
	"rfc3339":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"sub":      func(a, b time.Time) time.Duration { return a.Sub(b) },
}).Parse(htmlTemplate))

// HTML renders one self-contained page (inline CSS and SVG, no scripts, no
// external resources) with a timeline per flow.
func HTML(w io.Writer, r *Report) error { return page.Execute(w, r) }
