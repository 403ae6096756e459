package main

import (
	"github.com/spf13/cobra"
)

func completionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "print the shell completion script",
		Long: `Print the completion script for bash, zsh or fish. To load it:

  bash:  source <(netchaos completion bash)
  zsh:   netchaos completion zsh > "${fpath[1]}/_netchaos"
  fish:  netchaos completion fish | source`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      exactlyOne("shell (bash, zsh or fish)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return usagef("no completion for shell %q: want bash, zsh or fish", args[0])
		},
	}
}
