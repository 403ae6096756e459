#!/usr/bin/env bash
# Static CNI for a kind cluster created with disableDefaultCNI (what kindnetd
# would do, done once from the host): per node a ptp + host-local conflist for
# the node's podCIDR with portmap (hostPort), routes to the other nodes' pod
# CIDRs, and masquerade for pod traffic leaving the pod network. Idempotent.
#   usage: cni.sh <cluster-name> <kubeconfig> <pod-subnet>
source "$(dirname "$0")/lib.sh"
NAME=$1 KCFG=$2 POD_SUBNET=$3
KUBECTL="$BIN/kubectl --kubeconfig $KCFG --context kind-$NAME"
mapfile -t NODES < <("$BIN/kind" get nodes --name "$NAME")
[ ${#NODES[@]} -gt 0 ] || die "cluster $NAME has no nodes"
declare -A CIDR IP
for n in "${NODES[@]}"; do
  for _ in $(seq 1 120); do
    CIDR[$n]=$($KUBECTL get node "$n" -o jsonpath='{.spec.podCIDR}' 2>/dev/null || true)
    [ -n "${CIDR[$n]}" ] && break; sleep 0.5
  done
  [ -n "${CIDR[$n]}" ] || die "node $n has no podCIDR"
  IP[$n]=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$n")
done
for n in "${NODES[@]}"; do
  mtu=$(docker exec "$n" cat /sys/class/net/eth0/mtu)
  docker exec -i "$n" sh -c 'mkdir -p /etc/cni/net.d && cat > /etc/cni/net.d/10-netchaos.conflist.tmp && mv /etc/cni/net.d/10-netchaos.conflist.tmp /etc/cni/net.d/10-netchaos.conflist' <<JSON
{
  "cniVersion": "0.4.0",
  "name": "netchaos",
  "plugins": [
    { "type": "ptp", "ipMasq": false, "mtu": $mtu,
      "ipam": { "type": "host-local", "dataDir": "/run/cni-ipam-state",
                "routes": [ { "dst": "0.0.0.0/0" } ],
                "ranges": [ [ { "subnet": "${CIDR[$n]}" } ] ] } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  for m in "${NODES[@]}"; do
    [ "$m" = "$n" ] || docker exec "$n" ip route replace "${CIDR[$m]}" via "${IP[$m]}"
  done
  rule="POSTROUTING -s $POD_SUBNET ! -d $POD_SUBNET -m addrtype ! --dst-type LOCAL -m comment --comment netchaos-masq -j MASQUERADE"
  docker exec "$n" sh -c "iptables -t nat -C $rule 2>/dev/null || iptables -t nat -A $rule"
done
log cni "static CNI on ${#NODES[@]} nodes ($(for n in "${NODES[@]}"; do printf '%s=%s ' "${n#"$NAME"-}" "${CIDR[$n]}"; done))"
