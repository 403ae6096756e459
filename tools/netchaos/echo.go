package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/netchaos/netchaos/probe"
)

func echoCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "echo",
		Short: "answer probes with this responder's identity",
		Args:  noArgs,
	}
	fs := cmd.Flags()
	var udp, tcp listFlag
	fs.Var(&udp, "udp", "UDP listen address(es), e.g. :8125 (repeatable, comma-separated)")
	fs.Var(&tcp, "tcp", "TCP listen address(es), e.g. :8080 (repeatable, comma-separated)")
	id := probe.Identity{}
	fs.StringVar(&id.Pod, "pod", os.Getenv("POD_NAME"), "responder name reported to probers (default $POD_NAME)")
	fs.StringVar(&id.IP, "ip", os.Getenv("POD_IP"), "responder IP reported to probers (default $POD_IP)")
	fs.StringVar(&id.Node, "node", os.Getenv("NODE_NAME"), "node name reported to probers (default $NODE_NAME)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stderr := cmd.Context(), cmd.ErrOrStderr()
		if len(udp)+len(tcp) == 0 {
			return usagef("nothing to listen on: give --udp and/or --tcp")
		}
		if id.Pod == "" {
			id.Pod, _ = os.Hostname()
		}
		fmt.Fprintf(stderr, "echo: %s answering on udp %v tcp %v\n", id, udp, tcp)
		return probe.Echo(ctx, id, udp, tcp)
	}
	return cmd
}
