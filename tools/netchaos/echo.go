package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/netchaos/netchaos/experiments/probe"
)

func init() {
	register("echo", "answer probes with this responder's identity", runEcho)
}

func runEcho(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("echo", stderr)
	var udp, tcp listFlag
	fs.Var(&udp, "udp", "UDP listen address(es), e.g. :8125 (repeatable, comma-separated)")
	fs.Var(&tcp, "tcp", "TCP listen address(es), e.g. :8080 (repeatable, comma-separated)")
	id := probe.Identity{}
	fs.StringVar(&id.Pod, "pod", os.Getenv("POD_NAME"), "responder name reported to probers (default $POD_NAME)")
	fs.StringVar(&id.IP, "ip", os.Getenv("POD_IP"), "responder IP reported to probers (default $POD_IP)")
	fs.StringVar(&id.Node, "node", os.Getenv("NODE_NAME"), "node name reported to probers (default $NODE_NAME)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(udp)+len(tcp) == 0 {
		return usagef("nothing to listen on: give --udp and/or --tcp")
	}
	if id.Pod == "" {
		id.Pod, _ = os.Hostname()
	}
	fmt.Fprintf(stderr, "echo: %s answering on udp %v tcp %v\n", id, udp, tcp)
	return probe.Echo(ctx, id, udp, tcp)
}
