#!/usr/bin/env bash
# Installs MetalLB (L2 mode) from the manifests in the go.universe.tf/metallb
# module download, with an IPAddressPool at the tail of the kind docker network.
# Each cluster name gets its own /24 block so that clusters sharing the kind
# network never announce the same address: netchaos the last /24 (x.x.255.200-250),
# any other name one of the 30 blocks below it, chosen by a hash of the name.
#   usage: metallb.sh <cluster-name> <kubeconfig>
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.sh"
NAME=$1 KUBECTL="$BIN/kubectl --kubeconfig $2 --context kind-$1"
M=$(gomodcache)/go.universe.tf/metallb@$METALLB_VERSION/config/manifests/metallb-native.yaml
[ -f "$M" ] || (cd "$OUT" && GOFLAGS=-mod=mod go mod download go.universe.tf/metallb@$METALLB_VERSION)
$KUBECTL apply --server-side --force-conflicts -f "$M" >/dev/null

# pool: addresses .200-.250 of the last /24 of the kind network (e.g. 172.18.255.200-250)
subnet=$(docker network inspect kind -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' | tr ' ' '\n' | grep -m1 '\.')
ip2int() { local IFS=.; set -- $1; echo $(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 )); }
int2ip() { echo "$(( $1 >> 24 & 255 )).$(( $1 >> 16 & 255 )).$(( $1 >> 8 & 255 )).$(( $1 & 255 ))"; }
net=$(ip2int "${subnet%/*}") bits=${subnet#*/}
last24=$(( (net | ((1 << (32 - bits)) - 1)) & ~255 ))
[ "$NAME" = netchaos ] || last24=$(( last24 - 256 * (1 + $(echo "$NAME" | cksum | cut -d' ' -f1) % 30) ))
POOL="$(int2ip $((last24 + 200)))-$(int2ip $((last24 + 250)))"

$KUBECTL -n metallb-system rollout status deploy/controller --timeout=180s >/dev/null ||
  die "MetalLB controller not available"
for i in $(seq 1 60); do
  $KUBECTL apply -f - >/dev/null 2>"$OUT/metallb-apply.err" <<YAML && break
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: kind, namespace: metallb-system }
spec: { addresses: ["$POOL"] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: kind, namespace: metallb-system }
spec: { ipAddressPools: [kind] }
YAML
  [ "$i" = 60 ] && { cat "$OUT/metallb-apply.err" >&2; die "could not create the MetalLB address pool"; }
  sleep 2
done
$KUBECTL -n metallb-system rollout status ds/speaker --timeout=180s >/dev/null || die "MetalLB speaker not ready"
log metallb "MetalLB $METALLB_VERSION L2, pool $POOL"
