// Command ipamd-standin serves the AWS VPC CNI's CNIBackend gRPC service
// (amazon-vpc-cni-k8s v1.20.0's own generated rpc package) where the aws-cni
// plugin dials ipamd, 127.0.0.1:50051, so that the real plugin can set up pods
// off AWS. Pod addresses are /32s from -pod-cidr, all on the ENI at
// -device-number; with -primary-if / -eni-if it first does ipamd's node
// set-up through the VPC CNI's pkg/networkutils (see host.go and README.md).
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	_ "github.com/netchaos/netchaos/tools/vpccni/internal/logenv" // before networkutils' logger: keep first

	"github.com/aws/amazon-vpc-cni-k8s/pkg/networkutils"
	"github.com/aws/amazon-vpc-cni-k8s/rpc"

	"github.com/netchaos/netchaos/tools/vpccni/internal/pool"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix("ipamd-standin: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	var (
		listen    = flag.String("listen", "127.0.0.1:50051", "gRPC address; the plugin dials 127.0.0.1:50051 (a constant in cmd/routed-eni-cni-plugin)")
		podCIDR   = flag.String("pod-cidr", "", "IPv4 CIDR the /32 pod addresses come from (required)")
		reserve   = flag.String("reserve", "", "comma-separated addresses never handed out (the ENI's own address and gateway are added)")
		devNum    = flag.Int("device-number", 1, "ENI device number of every pod address; >0 is a secondary ENI, whose pods get rule 1536 to table device+1")
		vpcCIDRs  = flag.String("vpc-cidrs", "", "comma-separated VPC IPv4 CIDRs (ipamd reads them from IMDS): not SNATed by the host set-up, sent in AddNetworkReply; default: -pod-cidr")
		version   = flag.String("version", "", "version the plugin's ClientVersion must equal, as ipamd checks (v1.20.0 release binaries send \"\")")
		state     = flag.String("state", "", "JSON file keeping the allocations across restarts (none: memory only)")
		primaryIf = flag.String("primary-if", "", "primary ENI interface: run ipamd's SetupHostNetwork on it (rule 1024, iptables SNAT/CONNMARK)")
		eniIf     = flag.String("eni-if", "", "secondary ENI interface at -device-number: run ipamd's SetupENINetwork on it (route table, rule 32765)")
		eniIP     = flag.String("eni-ip", "", "the secondary ENI's primary IPv4 address (with -eni-if)")
		eniSubnet = flag.String("eni-subnet", "", "the secondary ENI's subnet CIDR; its first address is the gateway (with -eni-if)")
		setupOnly = flag.Bool("setup-only", false, "do the host set-up and exit without serving")
	)
	flag.Parse()
	if *podCIDR == "" {
		return fmt.Errorf("-pod-cidr is required")
	}
	if *devNum < 0 {
		return fmt.Errorf("-device-number %d: must be 0 or more", *devNum)
	}
	host := hostConfig{primaryIf: *primaryIf, eniIf: *eniIf, eniIP: *eniIP, eniSubnet: *eniSubnet}

	reserved, err := parseAddrs(*reserve)
	if err != nil {
		return fmt.Errorf("-reserve: %w", err)
	}
	if a, err := netip.ParseAddr(*eniIP); err == nil {
		reserved = append(reserved, a)
	}
	if p, err := netip.ParsePrefix(*eniSubnet); err == nil {
		reserved = append(reserved, p.Masked().Addr().Next()) // the VPC subnet's gateway
	}
	pl, err := pool.New(*podCIDR, reserved...)
	if err != nil {
		return err
	}
	restored, err := loadState(*state)
	if err != nil {
		return err
	}
	if err := pl.Restore(restored); err != nil {
		return fmt.Errorf("state file %s: %w", *state, err)
	}

	vpc := splitList(*vpcCIDRs)
	if len(vpc) == 0 {
		vpc = []string{pl.Prefix().String()}
	}
	nw := networkutils.New() // reads ipamd's variables: AWS_VPC_K8S_CNI_EXTERNALSNAT, AWS_VPC_ENI_MTU, ...
	if host.any() {
		if err := setupHost(nw, host, vpc, *devNum, restored); err != nil {
			return fmt.Errorf("host set-up: %w", err)
		}
		log.Printf("host set-up done (primary ENI %q, secondary ENI %q at device %d)", *primaryIf, *eniIf, *devNum)
	}
	if *setupOnly {
		return nil
	}

	b := newBackend(pl, *devNum, replyCIDRs(nw, vpc), nw.UseExternalSNAT())
	b.version = *version
	b.save = func(a []pool.Allocation) error { return saveState(*state, a) }
	return serve(*listen, b, len(restored))
}

// replyCIDRs is AddNetworkReply.VPCv4CIDRs as ipamd builds it: the VPC's CIDRs
// and, unless SNAT is external, the SNAT exclusions. (v1.20.0's plugin does not
// read it; it is sent for fidelity.)
func replyCIDRs(nw networkutils.NetworkAPIs, vpc []string) []string {
	out := append([]string(nil), vpc...)
	if !nw.UseExternalSNAT() {
		out = append(out, nw.GetExcludeSNATCIDRs()...)
	}
	return out
}

func serve(addr string, b *backend, restored int) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening where the plugin dials ipamd: %w", err)
	}
	srv := grpc.NewServer()
	rpc.RegisterCNIBackendServer(srv, b)
	hs := health.NewServer() // what aws-node's readiness probe (grpc-health-probe) asks
	hs.SetServingStatus("grpc.health.v1.aws-node", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sig
		log.Printf("%v: stopping", s)
		srv.GracefulStop()
	}()
	log.Printf("serving CNIBackend on %s: pod addresses from %s on device %d (route table %d), %d restored",
		lis.Addr(), b.pool.Prefix(), b.deviceNumber, b.routeTableID, restored)
	return srv.Serve(lis)
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parseAddrs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, f := range splitList(s) {
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}
