package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/netchaos/netchaos/experiments/trafficpolicy"
	"github.com/netchaos/netchaos/probe"
)

func lbproxyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lbproxy",
		Short: "T4's test load balancer for ipMode: Proxy: relay a port to a NodePort, answer another itself",
		Args:  noArgs,
	}
	fs := cmd.Flags()
	listen := fs.String("listen", ":80", "address the relayed port listens on (TCP and UDP)")
	relayTCP := fs.String("relay-tcp", "", "host:port TCP connections are relayed to (a NodePort)")
	relayUDP := fs.String("relay-udp", "", "host:port UDP datagrams are relayed to (a NodePort)")
	own := fs.String("own", "", "address (TCP and UDP) the load balancer answers probes on itself")
	id := probe.Identity{Pod: os.Getenv("POD_NAME"), IP: os.Getenv("POD_IP"), Node: os.Getenv("NODE_NAME")}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stderr := cmd.Context(), cmd.ErrOrStderr()
		if *relayTCP == "" && *relayUDP == "" && *own == "" {
			return usagef("nothing to do: give --relay-tcp, --relay-udp and/or --own")
		}
		if id.Pod == "" {
			id.Pod, _ = os.Hostname()
		}
		fmt.Fprintf(stderr, "lbproxy: %s relaying %s to tcp %q udp %q, answering on %q\n", id, *listen, *relayTCP, *relayUDP, *own)
		return trafficpolicy.LBProxy(ctx, id, *listen, *relayTCP, *relayUDP, *own)
	}
	return cmd
}
