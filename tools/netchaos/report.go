package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/reports"
)

func reportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "render a JSON report as markdown, html or junit",
		Args:  noArgs,
	}
	fs := cmd.Flags()
	in := fs.String("in", "", "report.json to render")
	from := fs.String("from-configmap", "", "instead of --in: the report a scheduled run kept in the cluster, NAMESPACE/NAME (needs the cluster flags)")
	cf := addClusterFlags(fs)
	format := fs.String("format", "md", "md, summary (short markdown for a pull-request comment), html, junit or json (json: a report.json that diff reads)")
	link := fs.String("link", "", "with --format summary: the address of the full report, linked at the end")
	out := fs.String("out", "-", "output file (- for stdout)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stdout := cmd.Context(), cmd.OutOrStdout()
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
	return cmd
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
