package reports

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Markdown renders the report for people: the environment, a summary table
// (verdict, longest outage, recovery per experiment), then per experiment
// the trigger, expected versus observed, the flows with their outages
// (starts relative to the trigger) and responder changes, and the evidence
// in collapsed code blocks. Deterministic: it reads no clock.
func Markdown(w io.Writer, r *Report) error {
	p := &printer{w: w}
	p.f("# netchaos resilience report\n\n")
	p.f("**%s**\n\n", Banner(r))
	p.f("Run `%s` on context `%s`, started %s, took %s (%s).\n\n", r.Run.ID, r.Run.Context, r.Run.Started.UTC().Format(time.RFC3339), Dur(r.Run.Finished.Sub(r.Run.Started)), orUnknown(r.Run.Tool))
	p.f("Cluster: %s.\n\n", envLine(r.Environment))
	for _, n := range r.Environment.Notes {
		p.f("- %s\n", n)
	}
	if len(r.Environment.Notes) > 0 {
		p.f("\n")
	}
	p.summary(r)
	for _, e := range r.Experiments {
		p.experiment(e)
	}
	return p.err
}

// summary is the table every form of the report starts with: per
// experiment its verdict, its worst flow's time lost and when it was back
// for good (each naming its marker), and its conformance to the known
// behaviour, with direction.
func (p *printer) summary(r *Report) {
	p.f("## Summary\n\n| Experiment | Verdict | Worst flow: time lost | Back for good | Known behaviour | Reason |\n|---|---|---|---|---|---|\n")
	for _, e := range r.Experiments {
		lost, stable := headline(e)
		conf := conformanceText(e)
		if conf == "" {
			conf = "as expected"
		}
		p.f("| %s | **%s** | %s | %s | %s | %s |\n", cell(key(e)), e.Verdict, cell(lost), cell(stable), cell(conf), cell(e.Reason))
	}
	p.f("\n")
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, a ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, a...)
	}
}

// cell makes text safe for one Markdown table cell.
func cell(s string) string {
	if s == "" {
		return " "
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

func (p *printer) experiment(e Experiment) {
	p.f("\n## %s — %s\n\n", orName(e), strings.ToUpper(string(e.Verdict)))
	p.f("`%s`", e.Name)
	if e.Trigger != "" {
		p.f(" · Trigger: %s", e.Trigger)
	}
	if e.Budget > 0 {
		p.f(" · Outage budget: %s", Dur(e.Budget))
	}
	if e.Inherent > 0 {
		p.f(" (beyond the %s the trigger costs by design)", Dur(e.Inherent))
	}
	p.f("\n\n")
	if e.Lab != "" {
		p.f("Lab profile: %s.\n\n", e.Lab)
	}
	if e.Reason != "" {
		p.f("**%s**\n\n", e.Reason)
	}
	if m := mechanismText(e.Mechanism); m != "" && (e.Verdict == Vulnerable || e.Verdict == Degraded) {
		p.f("Mechanism: %s.\n\n", m)
	}
	for _, m := range mitigationText(e) {
		p.f("- Mitigation %s\n", m)
	}
	if len(mitigationText(e)) > 0 {
		p.f("\n")
	}
	if c := conformanceText(e); c != "" {
		p.f("Against the known behaviour: %s.\n\n", c)
	}
	if pre := preTrigger(e); len(pre) > 0 {
		p.f("Outages before the trigger (not counted): %s.\n\n", strings.Join(pre, ", "))
	}
	if len(e.Sources) > 0 {
		p.f("Upstream: %s.\n\n", strings.Join(e.Sources, ", "))
	}
	if len(e.Markers) > 0 {
		p.f("Markers: %s.\n\n", markerList(e))
	}
	if len(e.Expectations) > 0 {
		p.f("### Expected vs observed\n\n| Case | Expected | Observed | |\n|---|---|---|---|\n")
		for _, x := range e.Expectations {
			src := ""
			if x.Source != "" {
				src = " (" + x.Source + ")"
			}
			p.f("| %s | %s | %s | %s |\n", cell(x.Case), cell(expected(x)+src), cell(x.Observed), matchText(x))
		}
		p.f("\n")
	}
	if len(e.Flows) > 0 {
		p.f("### Flows\n\n| Flow | Mode | Verdict | Sent | Lost | After each marker |\n|---|---|---|---|---|---|\n")
		for _, f := range e.Flows {
			s := f.Stats
			role := ""
			if f.Control {
				role = " (control)"
			}
			var ws []string
			for _, w := range f.Windows {
				ws = append(ws, w.words())
			}
			p.f("| %s%s | %s | %s | %d | %d | %s |\n", cell(f.Name), role, s.Mode, f.Verdict, s.Sent, s.Lost, cell(strings.Join(ws, "; ")))
		}
		p.f("\nOutages (start relative to the trigger) and who answered:\n\n")
		for _, f := range e.Flows {
			p.f("- **%s**", f.Name)
			if f.Description != "" {
				p.f(" — %s", f.Description)
			}
			p.f("\n")
			if o := outageList(e, f); len(o) > 0 {
				p.f("  - outages: %s\n", strings.Join(o, "; "))
			} else {
				p.f("  - outages: none\n")
			}
			p.f("  - %s\n", responderText(e, f))
		}
		p.f("\n")
	}
	if len(e.Evidence) > 0 {
		p.f("### Evidence\n\n")
		for _, ev := range e.Evidence {
			text := strings.TrimRight(ev.Text, "\n")
			fence := "```"
			for strings.Contains(text, fence) {
				fence += "`"
			}
			shows := ""
			if ev.Shows != "" {
				shows = " — shows: " + htmlEscape(ev.Shows)
			}
			p.f("<details><summary>%s (%s)%s</summary>\n\n%s\n%s\n%s\n\n</details>\n\n", htmlEscape(ev.Name), htmlEscape(ev.When), shows, fence, text, fence)
		}
	}
}

// orName is the experiment's title, else its name.
func orName(e Experiment) string {
	if e.Title != "" {
		return e.Title
	}
	return e.Name
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// MarkdownSummary renders the short form for a pull-request comment: the
// banner, the summary table and, per experiment that is not resilient, its
// reason, mechanism and mitigations and the rows that left the known
// behaviour (at most maxRows each), then a link to the full report. It stays
// far under a comment's 65,536 characters.
func MarkdownSummary(w io.Writer, r *Report, link string) error {
	const maxRows = 8
	p := &printer{w: w}
	p.f("### netchaos: %s\n\n", Banner(r))
	p.f("Context `%s`, %s.\n\n", r.Run.Context, envLine(r.Environment))
	p.summary(r)
	for _, e := range r.Experiments {
		if e.Verdict == Resilient || e.Verdict == NotApplicable {
			continue
		}
		p.f("**%s — %s**", key(e), e.Verdict)
		if m := mechanismText(e.Mechanism); m != "" && (e.Verdict == Vulnerable || e.Verdict == Degraded) {
			p.f(": %s", m)
		}
		p.f("\n\n")
		for _, m := range mitigationText(e) {
			p.f("- Mitigation %s\n", m)
		}
		n := 0
		for _, x := range e.Expectations {
			if !x.Deviates() && x.Verdict != string(Vulnerable) {
				continue
			}
			if n++; n > maxRows {
				continue
			}
			p.f("- %s: %s (expected %s)\n", x.Case, x.Observed, expected(x))
		}
		if n > maxRows {
			p.f("- … %d more in the full report\n", n-maxRows)
		}
		p.f("\n")
	}
	if link != "" {
		p.f("Full report: %s\n", link)
	}
	return p.err
}
