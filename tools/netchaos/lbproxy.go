package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/netchaos/netchaos/experiments/probe"
	"github.com/netchaos/netchaos/experiments/trafficpolicy"
)

func init() {
	register("lbproxy", "T4's test load balancer for ipMode: Proxy: relay a port to a NodePort, answer another itself", runLBProxy)
}

func runLBProxy(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("lbproxy", stderr)
	listen := fs.String("listen", ":80", "address the relayed port listens on (TCP and UDP)")
	relayTCP := fs.String("relay-tcp", "", "host:port TCP connections are relayed to (a NodePort)")
	relayUDP := fs.String("relay-udp", "", "host:port UDP datagrams are relayed to (a NodePort)")
	own := fs.String("own", "", "address (TCP and UDP) the load balancer answers probes on itself")
	id := probe.Identity{Pod: os.Getenv("POD_NAME"), IP: os.Getenv("POD_IP"), Node: os.Getenv("NODE_NAME")}
	if err := parse(fs, args); err != nil {
		return err
	}
	if *relayTCP == "" && *relayUDP == "" && *own == "" {
		return usagef("nothing to do: give --relay-tcp, --relay-udp and/or --own")
	}
	if id.Pod == "" {
		id.Pod, _ = os.Hostname()
	}
	fmt.Fprintf(stderr, "lbproxy: %s relaying %s to tcp %q udp %q, answering on %q\n", id, *listen, *relayTCP, *relayUDP, *own)
	return trafficpolicy.LBProxy(ctx, id, *listen, *relayTCP, *relayUDP, *own)
}
