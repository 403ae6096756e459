package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "print the version, commit and build (also netchaos --version)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprint(cmd.OutOrStdout(), versionText())
			return nil
		},
	}
}

// versionText is the version set at build time (-ldflags -X main.version)
// and what the Go toolchain recorded about the build.
func versionText() string {
	bi, _ := debug.ReadBuildInfo()
	return describeBuild(version, bi)
}

// describeBuild says what a binary is: its version, the commit it was built
// from (and whether the tree had changes), when that commit was made, and
// the Go release that built it. bi may be nil.
func describeBuild(version string, bi *debug.BuildInfo) string {
	vcs := map[string]string{}
	goVersion := runtime.Version()
	if bi != nil {
		for _, s := range bi.Settings {
			vcs[s.Key] = s.Value
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "netchaos %s\n", version)
	if bi != nil && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		fmt.Fprintf(&b, "module:   %s %s\n", bi.Main.Path, bi.Main.Version)
	}
	switch rev := vcs["vcs.revision"]; {
	case rev == "":
		b.WriteString("commit:   unknown (built without VCS stamping, e.g. -buildvcs=false)\n")
	case vcs["vcs.modified"] == "true":
		fmt.Fprintf(&b, "commit:   %s (with uncommitted changes)\n", rev)
	default:
		fmt.Fprintf(&b, "commit:   %s\n", rev)
	}
	if t := vcs["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "date:     %s\n", t)
	}
	fmt.Fprintf(&b, "go:       %s\n", goVersion)
	return b.String()
}
