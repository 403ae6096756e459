package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aws/amazon-vpc-cni-k8s/pkg/ipamd/datastore"
	"github.com/aws/amazon-vpc-cni-k8s/pkg/networkutils"
	"github.com/aws/amazon-vpc-cni-k8s/rpc"

	"github.com/netchaos/netchaos/tools/vpccni/internal/pool"
)

// backend is the CNIBackend gRPC service that ipamd serves to the aws-cni
// plugin, answering as ipamd's rpc_handler.go does for an IPv4 cluster
// without prefix delegation, pod ENIs (security groups for pods), multi-NIC
// or network policies: every pod address comes from one ENI, deviceNumber.
type backend struct {
	rpc.UnimplementedCNIBackendServer

	// version must equal the plugin's ClientVersion, as ipamd checks. Both are
	// main.version / version.Version, which v1.20.0's Makefile never sets
	// (its -X flags name "pkg/version/info.Version", not an import path), so
	// release binaries send and expect "".
	version      string
	deviceNumber int      // the ENI the pod addresses belong to (0 = primary)
	routeTableID int      // networkutils.CalculateRouteTableId(deviceNumber, 0, 0)
	vpcCIDRs     []string // AddNetworkReply.VPCv4CIDRs (plus SNAT exclusions, as ipamd)
	externalSNAT bool     // AddNetworkReply.UseExternalSNAT
	save         func([]pool.Allocation) error
	logf         func(format string, args ...any)

	mu   sync.Mutex
	pool *pool.Pool
}

func newBackend(p *pool.Pool, deviceNumber int, vpcCIDRs []string, externalSNAT bool) *backend {
	return &backend{
		pool:         p,
		deviceNumber: deviceNumber,
		routeTableID: networkutils.CalculateRouteTableId(deviceNumber, 0, 0),
		vpcCIDRs:     vpcCIDRs,
		externalSNAT: externalSNAT,
		save:         func([]pool.Allocation) error { return nil },
		logf:         log.Printf,
	}
}

func (b *backend) checkVersion(client string) error {
	if client != b.version {
		return status.Errorf(codes.FailedPrecondition, "wrong client version %q (!= %q)", client, b.version)
	}
	return nil
}

func (b *backend) metadata(ip string) []*rpc.IPAllocationMetadata {
	return []*rpc.IPAllocationMetadata{{
		IPv4Addr:     ip,
		DeviceNumber: int32(b.deviceNumber),
		RouteTableId: int32(b.routeTableID),
	}}
}

// AddNetwork assigns the sandbox an address (the same one again for a repeated ADD).
func (b *backend) AddNetwork(_ context.Context, in *rpc.AddNetworkRequest) (*rpc.AddNetworkReply, error) {
	if err := b.checkVersion(in.ClientVersion); err != nil {
		b.logf("AddNetwork %s rejected: %v", in.ContainerID, err)
		return nil, err
	}
	fail := &rpc.AddNetworkReply{Success: false}
	if in.ContainerID == "" || in.IfName == "" || in.NetworkName == "" {
		b.logf("AddNetwork rejected: ContainerID %q, IfName %q and NetworkName %q must all be set", in.ContainerID, in.IfName, in.NetworkName)
		return fail, nil
	}
	if in.RequiresMultiNICAttachment {
		b.logf("AddNetwork %s rejected: multi-NIC attachment asked for, and the stand-in (like ipamd without ENABLE_MULTI_NIC) has one network card", in.ContainerID)
		return fail, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := pool.Key{ContainerID: in.ContainerID, IfName: in.IfName, NetworkName: in.NetworkName}
	_, had := b.pool.Lookup(k)
	ip, err := b.pool.Assign(k)
	if err != nil {
		b.logf("AddNetwork %s (%s/%s) failed: %v", in.ContainerID, in.K8S_POD_NAMESPACE, in.K8S_POD_NAME, err)
		return fail, nil
	}
	if err := b.save(b.pool.Allocations()); err != nil {
		if !had {
			b.pool.Release(k) // not saved, so not handed out
		}
		b.logf("AddNetwork %s: %v", in.ContainerID, err)
		return fail, nil
	}
	b.logf("AddNetwork %s (%s/%s, netns %s): %s on device %d, route table %d",
		in.ContainerID, in.K8S_POD_NAMESPACE, in.K8S_POD_NAME, in.Netns, ip, b.deviceNumber, b.routeTableID)
	return &rpc.AddNetworkReply{
		Success:              true,
		IPAllocationMetadata: b.metadata(ip.String()),
		UseExternalSNAT:      b.externalSNAT,
		VPCv4CIDRs:           b.vpcCIDRs,
	}, nil
}

// DelNetwork releases the sandbox's address. For an unknown sandbox it fails
// with datastore.ErrUnknownPod's text, which the plugin takes as "already
// gone" and answers the runtime with success, as it does against ipamd.
func (b *backend) DelNetwork(_ context.Context, in *rpc.DelNetworkRequest) (*rpc.DelNetworkReply, error) {
	if err := b.checkVersion(in.ClientVersion); err != nil {
		b.logf("DelNetwork %s rejected: %v", in.ContainerID, err)
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ip, err := b.pool.Release(pool.Key{ContainerID: in.ContainerID, IfName: in.IfName, NetworkName: in.NetworkName})
	if errors.Is(err, pool.ErrUnknown) {
		b.logf("DelNetwork %s (%s/%s, reason %s): unknown sandbox", in.ContainerID, in.K8S_POD_NAMESPACE, in.K8S_POD_NAME, in.Reason)
		return &rpc.DelNetworkReply{Success: false}, datastore.ErrUnknownPod
	}
	if err != nil {
		return &rpc.DelNetworkReply{Success: false}, fmt.Errorf("releasing the address of %s: %w", in.ContainerID, err)
	}
	if err := b.save(b.pool.Allocations()); err != nil {
		b.logf("DelNetwork %s: %v", in.ContainerID, err)
	}
	b.logf("DelNetwork %s (%s/%s, reason %s): released %s", in.ContainerID, in.K8S_POD_NAMESPACE, in.K8S_POD_NAME, in.Reason, ip)
	return &rpc.DelNetworkReply{Success: true, IPAllocationMetadata: b.metadata(ip.String())}, nil
}
