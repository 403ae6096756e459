package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/reports"
)

func init() {
	register("report", "render a JSON report as markdown, html or junit", runReport)
	register("diff", "compare two JSON reports: what got better or worse", runDiff)
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", stderr)
	in := fs.String("in", "", "report.json to render")
	from := fs.String("from-configmap", "", "instead of --in: the report a scheduled run kept in the cluster, NAMESPACE/NAME (needs the cluster flags)")
	cf := addClusterFlags(fs)
	format := fs.String("format", "md", "md, summary (short markdown for a pull-request comment), html, junit or json (json: a report.json that diff reads)")
	link := fs.String("link", "", "with --format summary: the address of the full report, linked at the end")
	out := fs.String("out", "-", "output file (- for stdout)")
	if err := parse(fs, args); err != nil {
		return err
	}
	summary := func(w io.Writer, r *reports.Report) error { return reports.MarkdownSummary(w, r, *link) }
	render := map[string]func(io.Writer, *reports.Report) error{"md": reports.Markdown, "summary": summary, "html": reports.HTML, "junit": reports.JUnit, "json": reports.JSON}[*format]
	if render == nil {
		return usagef("--format %q: want md, summary, html, junit or json", *format)
	}
	if (*in == "") == (*from == "") {
		return usagef("give exactly one of --in and --from-configmap")
	}
	var r *reports.Report
	var err error
	if *in != "" {
		if r, err = load(*in); err != nil {
			return usagef("%v", err)
		}
	} else {
		ns, name, ok := strings.Cut(*from, "/")
		if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
			return usagef("--from-configmap %q: want NAMESPACE/NAME", *from)
		}
		e, err := cf.env(experiments.Options{})
		if err != nil {
			return err
		}
		if r, err = e.LoadReport(ctx, ns, name); err != nil {
			return err
		}
	}
	return writeTo(*out, stdout, func(w io.Writer) error { return render(w, r) })
}

func runDiff(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("diff", stderr)
	before := fs.String("before", "", "the earlier report.json (e.g. the current version)")
	after := fs.String("after", "", "the later report.json (e.g. the version to upgrade to)")
	out := fs.String("out", "-", "output file (- for stdout)")
	format := fs.String("format", "md", "md, json or html")
	failOn := fs.String("fail-on", "", "worse: exit 1 when any verdict, cell or time lost got worse beyond noise (the pre-upgrade gate)")
	threshold := fs.Duration("threshold", 0, "noise threshold for time lost (default: the spread of the control flows' time lost within the two runs, at least two probe intervals)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *before == "" || *after == "" {
		return usagef("need --before and --after reports")
	}
	render := map[string]func(io.Writer, reports.Delta) error{"md": reports.DiffMarkdown, "json": reports.DiffJSON, "html": reports.DiffHTML}[*format]
	if render == nil {
		return usagef("--format %q: want md, json or html", *format)
	}
	if *failOn != "" && *failOn != "worse" {
		return usagef("--fail-on %q: the only gate is worse", *failOn)
	}
	if *threshold < 0 {
		return usagef("--threshold must not be negative")
	}
	a, err := load(*before)
	if err != nil {
		return usagef("%v", err)
	}
	b, err := load(*after)
	if err != nil {
		return usagef("%v", err)
	}
	d := reports.Diff(a, b, reports.DiffOptions{Threshold: *threshold})
	if err := writeTo(*out, stdout, func(w io.Writer) error { return render(w, d) }); err != nil {
		return err
	}
	if len(d.Shared) == 0 {
		return usagef("%s and %s share no experiment: nothing was compared", *before, *after)
	}
	fmt.Fprintln(stderr, "diff:", d.Headline())
	if *failOn == "worse" && d.Worse() {
		return exitCode(exitGate)
	}
	return nil
}

func writeTo(path string, stdout io.Writer, f func(io.Writer) error) error {
	if path == "-" {
		return f(stdout)
	}
	file, err := os.Create(path)
	if err != nil {
		return usagef("%v", err)
	}
	if err := f(file); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "wrote", path)
	return nil
}
