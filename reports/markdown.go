package reports

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Markdown renders the report for people: a summary, then per experiment
// the trigger, expected versus observed, the flows with their outages and
// responder changes, and the evidence.
func Markdown(w io.Writer, r *Report) error {
	p := &printer{w: w}
	env := r.Environment
	p.f("# netchaos resilience report\n\n")
	p.f("Run `%s` on context `%s`, %s, %s.\n\n", r.Run.ID, r.Run.Context, r.Run.Started.UTC().Format(time.RFC3339), Dur(r.Run.Finished.Sub(r.Run.Started)))
	p.f("Cluster: %s, Kubernetes %s, kube-proxy %s, CNI %s, %d nodes, %s, kernel %s.\n\n",
		env.Provider, env.KubernetesVersion, env.KubeProxyMode, env.CNI, env.Nodes, env.NodeOS, env.Kernel)
	for _, n := range env.Notes {
		p.f("- %s\n", n)
	}
	p.f("## Summary\n\n| Experiment | Verdict | Worst outage after the trigger | Why |\n|---|---|---|---|\n")
	for _, e := range r.Experiments {
		p.f("| %s | **%s** | %s | %s |\n", e.Name, e.Verdict, worst(e), cellText(e.Reason))
	}
	for _, e := range r.Experiments {
		p.experiment(e)
	}
	return p.err
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

// worst describes the longest outage any flow had after the trigger, never
// printing an open one as a finite number.
func worst(e Experiment) string {
	var d time.Duration
	never := false
	for _, f := range e.Flows {
		if len(f.Checks) > 0 && f.Checks[0].Never {
			never = true
		}
		if o := triggerOutage(f); o > d {
			d = o
		}
	}
	switch {
	case len(e.Flows) == 0:
		return "—"
	case never:
		return "never recovered (≥ " + Dur(d) + ")"
	case d == 0:
		return "none"
	}
	return Dur(d)
}

func cellText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗ finding"
}

func (p *printer) experiment(e Experiment) {
	p.f("\n## %s — %s\n\n", e.Title, strings.ToUpper(string(e.Verdict)))
	p.f("`%s`. Trigger: %s.", e.Name, e.Trigger)
	if e.Budget > 0 {
		p.f(" Outage budget: %s.", Dur(e.Budget))
	}
	if e.Reason != "" {
		p.f(" **%s**", e.Reason)
	}
	p.f("\n\n")
	if len(e.Sources) > 0 {
		p.f("Upstream: %s.\n\n", strings.Join(e.Sources, ", "))
	}
	t0 := e.triggerAt()
	if len(e.Markers) > 0 {
		var ms []string
		for _, m := range e.Markers {
			ms = append(ms, fmt.Sprintf("%s at %s", m.Name, Rel(m.At, t0)))
		}
		p.f("Timeline: %s.\n\n", strings.Join(ms, "; "))
	}
	if len(e.Flows) > 0 {
		p.f("### Expected vs observed\n\n| Flow | After | Expected | Observed | |\n|---|---|---|---|---|\n")
		for _, f := range e.Flows {
			for _, c := range f.Checks {
				if c.Expected == "" {
					continue
				}
				p.f("| %s | %s | %s | %s | %s |\n", f.Name, c.Marker, c.Expected, cellText(c.Observed), mark(c.Match))
			}
		}
		p.f("\n### Flows\n\n| Flow | Sent | Answered | Lost | Longest gap | Outages (start relative to the trigger, length) |\n|---|---|---|---|---|---|\n")
		for _, f := range e.Flows {
			s := f.Stats
			p.f("| %s | %d | %d | %d | %s | %s |\n", f.Name, s.Sent, s.Answered, s.Lost, Dur(s.LongestGap), outages(f, t0))
		}
		p.f("\nWho answered:\n\n")
		for _, f := range e.Flows {
			p.f("- %s: %s\n", f.Name, responders(f, t0))
		}
	}
	if len(e.Cells) > 0 {
		p.f("\n### Matrix: expected vs observed\n\n| Case | Expected | Observed | |\n|---|---|---|---|\n")
		for _, c := range e.Cells {
			exp := c.Expected
			if exp == "" {
				exp = "—"
			}
			p.f("| %s | %s | %s | %s |\n", cellText(c.Case), exp, cellText(c.Observed), mark(c.Match))
		}
	}
	if len(e.Evidence) > 0 {
		p.f("\n### Evidence\n\n")
		for _, ev := range e.Evidence {
			p.f("<details><summary>%s — %s</summary>\n\n```\n%s\n```\n</details>\n\n", ev.Name, ev.When, strings.TrimRight(ev.Text, "\n"))
		}
	}
}

func outages(f Flow, t0 time.Time) string {
	if len(f.Stats.Outages) == 0 {
		return "none"
	}
	var out []string
	for i, o := range f.Stats.Outages {
		if i == 6 {
			out = append(out, fmt.Sprintf("… %d more", len(f.Stats.Outages)-i))
			break
		}
		if o.Open {
			out = append(out, fmt.Sprintf("%s, still down when the %s window closed", Rel(o.Start, t0), Dur(f.Stats.Window())))
		} else {
			out = append(out, fmt.Sprintf("%s, %s", Rel(o.Start, t0), Dur(o.Duration())))
		}
	}
	return strings.Join(out, "; ")
}

func responders(f Flow, t0 time.Time) string {
	sp := f.Stats.Responders
	if len(sp) == 0 {
		return "nobody"
	}
	var out []string
	for i, s := range sp {
		if i == 8 {
			out = append(out, fmt.Sprintf("… %d more changes", len(sp)-i))
			break
		}
		who := s.Responder.String()
		if who == "" {
			who = "unknown"
		}
		src := ""
		if s.SeenSource != "" {
			src = ", saw client " + s.SeenSource
		}
		out = append(out, fmt.Sprintf("%s%s from %s to %s (%d answers)", who, src, Rel(s.First, t0), Rel(s.Last, t0), s.Answers))
	}
	return strings.Join(out, ", then ")
}
