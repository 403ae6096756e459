package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newRoot is the command tree. Help goes to stdout; errors are returned to
// run, which prints them as one line and picks the exit code.
func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "netchaos",
		Short: "Network chaos experiments for Kubernetes: how long does traffic stop, and does it come back?",
		Long: `netchaos runs documented Kubernetes network failures against a cluster you name
(--context: it never picks one), measures how long traffic was lost and writes a
resilience report. The same binary is the probe agent the experiments deploy.

Exit codes: 0 ok, 1 the gate failed, 2 bad input, 3 the cluster or the tool
failed, 130 interrupted (after cleaning up).`,
		Args:          unknownCommand,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if v, _ := cmd.Flags().GetBool("version"); v {
				fmt.Fprint(cmd.OutOrStdout(), versionText())
				return nil
			}
			// No command: the help, on stderr, as bad input.
			cmd.SetOut(cmd.ErrOrStderr())
			cmd.Help()
			return exitCode(exitUsage)
		},
	}
	root.Flags().Bool("version", false, "print the version, commit and build")
	root.SetFlagErrorFunc(flagError)
	root.SuggestionsMinimumDistance = 2
	root.AddCommand(
		runCommand(), reportCommand(), diffCommand(), cleanupCommand(),
		listCommand(), explainCommand(), versionCommand(), completionCommand(),
		probeCommand(), echoCommand(), agentCommand(), janitorCommand(), lbproxyCommand(),
	)
	return root
}

// unknownCommand refuses an argument that names no command, suggesting the
// closest ones.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := "run 'netchaos help'"
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hint = "did you mean " + strings.Join(s, " or ") + "?"
	}
	return usagef("unknown command %q (%s)", args[0], hint)
}
