package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/netchaos/netchaos/reports"
)

func diffCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "compare two JSON reports: what got better or worse",
		Args:  noArgs,
	}
	fs := cmd.Flags()
	before := fs.String("before", "", "the earlier report.json (e.g. the current version)")
	after := fs.String("after", "", "the later report.json (e.g. the version to upgrade to)")
	out := fs.String("out", "-", "output file (- for stdout)")
	format := fs.String("format", "md", "md, json or html")
	failOn := fs.String("fail-on", "", "worse: exit 1 when any verdict, cell or time lost got worse beyond noise (the pre-upgrade gate)")
	threshold := fs.Duration("threshold", 0, "noise threshold for time lost (default: the spread of the control flows' time lost within the two runs, at least two probe intervals)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
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
	return cmd
}
