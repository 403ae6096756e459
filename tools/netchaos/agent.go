package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func agentCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "agent",
		Short: "node agent: idle until stopped; the runner execs into it",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.ErrOrStderr(), "agent: ready")
			<-cmd.Context().Done()
			return nil
		},
	}
}
