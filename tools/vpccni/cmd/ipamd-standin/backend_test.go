package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aws/amazon-vpc-cni-k8s/rpc"

	"github.com/netchaos/netchaos/tools/vpccni/internal/pool"
)

func testBackend(t *testing.T) *backend {
	t.Helper()
	p, err := pool.New("10.0.16.0/24")
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(p, 1, []string{"10.0.0.0/16"}, false)
	b.logf = t.Logf
	return b
}

func addReq(id string) *rpc.AddNetworkRequest {
	return &rpc.AddNetworkRequest{ContainerID: id, IfName: "eth0", NetworkName: "aws-cni", K8S_POD_NAMESPACE: "default", K8S_POD_NAME: "p-" + id}
}

func delReq(id string) *rpc.DelNetworkRequest {
	return &rpc.DelNetworkRequest{ContainerID: id, IfName: "eth0", NetworkName: "aws-cni", Reason: "PodDeleted"}
}

func TestAddReplyAsIpamd(t *testing.T) {
	b := testBackend(t)
	r, err := b.AddNetwork(context.Background(), addReq("c1"))
	if err != nil || !r.Success {
		t.Fatalf("AddNetwork = %v, %v", r, err)
	}
	if len(r.IPAllocationMetadata) != 1 {
		t.Fatalf("IPAllocationMetadata = %v, want one entry", r.IPAllocationMetadata)
	}
	m := r.IPAllocationMetadata[0]
	// device 1 on network card 0: route table 2, which the plugin's rule 1536 looks up
	if m.IPv4Addr != "10.0.16.1" || m.DeviceNumber != 1 || m.RouteTableId != 2 || m.IPv6Addr != "" {
		t.Fatalf("metadata = %v, want 10.0.16.1 on device 1, table 2", m)
	}
	if r.PodVlanId != 0 || r.NetworkPolicyMode != "" || r.UseExternalSNAT || len(r.VPCv4CIDRs) != 1 {
		t.Fatalf("reply = %v: want no VLAN (not a branch ENI), no network policy agent, on-node SNAT, the VPC CIDR", r)
	}
}

func TestAddRejectsLikeIpamd(t *testing.T) {
	b := testBackend(t)
	noName := addReq("c1")
	noName.NetworkName = ""
	if r, err := b.AddNetwork(context.Background(), noName); err != nil || r.Success {
		t.Fatalf("AddNetwork without NetworkName = %v, %v; want Success false, no error", r, err)
	}
	multi := addReq("c2")
	multi.RequiresMultiNICAttachment = true
	if r, err := b.AddNetwork(context.Background(), multi); err != nil || r.Success {
		t.Fatalf("multi-NIC AddNetwork = %v, %v; want Success false", r, err)
	}
	b.version = "v1.20.0"
	_, err := b.AddNetwork(context.Background(), addReq("c3"))
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("client version \"\" against server v1.20.0: err %v, want FailedPrecondition", err)
	}
}

func TestDelReleasesAndUnknownIsIpamdsError(t *testing.T) {
	b := testBackend(t)
	if _, err := b.AddNetwork(context.Background(), addReq("c1")); err != nil {
		t.Fatal(err)
	}
	r, err := b.DelNetwork(context.Background(), delReq("c1"))
	if err != nil || !r.Success || r.IPAllocationMetadata[0].IPv4Addr != "10.0.16.1" || r.IPAllocationMetadata[0].RouteTableId != 2 {
		t.Fatalf("DelNetwork = %v, %v; want success with 10.0.16.1, table 2 (the plugin deletes rule 1536 from it)", r, err)
	}
	_, err = b.DelNetwork(context.Background(), delReq("c1"))
	// the plugin treats an error containing datastore.ErrUnknownPod's text as "already deleted"
	if err == nil || !strings.Contains(err.Error(), "datastore: unknown pod") {
		t.Fatalf("second DelNetwork: err %v, want datastore.ErrUnknownPod", err)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	b := testBackend(t)
	b.save = func(a []pool.Allocation) error { return saveState(path, a) }
	r1, _ := b.AddNetwork(context.Background(), addReq("c1"))
	b.AddNetwork(context.Background(), addReq("c2"))
	b.DelNetwork(context.Background(), delReq("c2"))

	saved, err := loadState(path)
	if err != nil || len(saved) != 1 || saved[0].ContainerID != "c1" {
		t.Fatalf("state after ADD c1, ADD c2, DEL c2 = %v, %v", saved, err)
	}
	b2 := testBackend(t)
	if err := b2.pool.Restore(saved); err != nil {
		t.Fatal(err)
	}
	r, err := b2.AddNetwork(context.Background(), addReq("c1"))
	if err != nil || r.IPAllocationMetadata[0].IPv4Addr != r1.IPAllocationMetadata[0].IPv4Addr {
		t.Fatalf("repeated ADD after restart = %v, %v; want %s", r, err, r1.IPAllocationMetadata[0].IPv4Addr)
	}
}

func TestFailedSaveGivesTheAddressBack(t *testing.T) {
	b := testBackend(t)
	b.save = func([]pool.Allocation) error { return errors.New("disk full") }
	if r, _ := b.AddNetwork(context.Background(), addReq("c1")); r.Success {
		t.Fatal("AddNetwork succeeded although its allocation could not be saved")
	}
	if _, ok := b.pool.Lookup(pool.Key{ContainerID: "c1", IfName: "eth0", NetworkName: "aws-cni"}); ok {
		t.Fatal("the unsaved address stayed assigned")
	}
}
