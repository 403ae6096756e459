#!/usr/bin/env bash
# Static CNI for a kind cluster created with disableDefaultCNI (what kindnetd
# would do, done once from the host): per node a ptp + host-local conflist for
# the node's podCIDR with portmap (hostPort), routes to the other nodes' pod
# CIDRs, and masquerade for pod traffic leaving the pod network. Idempotent.
#   usage: cni.sh <cluster-name> <kubeconfig> <pod-subnet> <service-subnet> [cni-profile]
# cni-profile (the CNI half of a lab profile, see lab.sh):
#   default         Debian's portmap 1.1.1, "snat" on: it masquerades traffic from the
#                   node's whole pod /24 to a hostPort (ptp gives pods /24 addresses)
#   vpc-like        portmap "snat": false: pod traffic to a hostPort is not masqueraded,
#                   as with the AWS VPC CNI, whose /32 pod addresses make portmap
#                   masquerade only the hairpin
#   portmap-v0.8.7  vpc-like, with portmap v0.8.7 (the last release before
#                   containernetworking/plugins#553: no UDP conntrack cleanup on ADD)
# Stand-ins for what a cloud network does with addresses nobody routes (so no
# probe ever leaves the machine): traffic to the service CIDR that kube-proxy did
# not NAT leaves the node by its default route, as in a VPC, and this host drops it
# (DOCKER-USER), as the VPC would; the node's conntrack entry forms as it would
# there. A pod address of a node with no pod behind it is blackholed on the node.
# Every worker also gets the AWS VPC CNI's plugins (aws-cni, egress-cni) in /opt/cni/bin and
# the stand-in ipamd in /usr/local/bin, built by vpccni.sh build: binaries only, no conflist,
# so they are nobody's pod network until T3 installs EKS's conflist for its victim pods.
source "$(dirname "$0")/lib.sh"
NAME=$1 KCFG=$2 POD_SUBNET=$3 SVC_SUBNET=$4 PROFILE=${5:-default}
case $PROFILE in
  default) PORTMAP=portmap SNAT=true ;;
  vpc-like) PORTMAP=portmap SNAT=false ;;
  portmap-v0.8.7) PORTMAP=portmap-v0.8.7 SNAT=false
    [ -x "$BIN/portmap-v0.8.7" ] || die "$BIN/portmap-v0.8.7 is not built (lab.sh builds it)" ;;
  *) die "unknown CNI profile $PROFILE (default, vpc-like, portmap-v0.8.7)" ;;
esac
KUBECTL="$BIN/kubectl --kubeconfig $KCFG --context kind-$NAME"
mapfile -t NODES < <("$BIN/kind" get nodes --name "$NAME")
[ ${#NODES[@]} -gt 0 ] || die "cluster $NAME has no nodes"
VBIN=$OUT/vpccni/bin VKEY=/usr/local/lib/netchaos-vpccni.key
# Each node records the profile it was set up for, with this script's and the VPC CNI build's
# versions (in /run: gone with the node): a switch to the profile every node has does nothing
# (lab.sh switches before and after every control).
CNI_MARK=/run/netchaos-cni CNI_KEY="$PROFILE $(md5sum <"$HERE/cni.sh" | cut -c1-12) $(cat "$VBIN/.key" 2>/dev/null || true)"
same=1
for n in "${NODES[@]}"; do [ "$(docker exec "$n" cat $CNI_MARK 2>/dev/null || true)" = "$CNI_KEY" ] || { same=0; break; }; done
# Docker leaves a network's "-s SUBNET ! -o br-ID -j MASQUERADE" behind when its daemon is killed
# and the bridge deleted. With bridge netfilter on, such a rule for the kind subnet masquerades
# every packet between nodes as the host (the peer sees 172.18.0.1, not the node), and packets
# that escape that NAT mid-connection reach the node un-NATed and are answered by a RST.
subnet=$(docker network inspect kind -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' | tr ' ' '\n' | grep -m1 '\.' || true)
{ [ -n "$subnet" ] && iptables -t nat -S POSTROUTING | grep -E -- "^-A POSTROUTING -s $subnet ! -o br-[0-9a-f]+ -j MASQUERADE$" || true; } | while read -r _ _ spec; do
  br=${spec#*! -o }; br=${br%% *}
  [ -e "/sys/class/net/$br" ] && continue
  iptables -t nat -D POSTROUTING $spec && log cni "removed Docker's masquerade for $subnet through $br, a bridge long gone (it NATed the traffic between nodes)" || true
done
if [ $same = 1 ]; then log cni "static CNI ($PROFILE) already on ${#NODES[@]} nodes"; exit 0; fi
declare -A CIDR IP
for n in "${NODES[@]}"; do
  for _ in $(seq 1 120); do
    CIDR[$n]=$($KUBECTL get node "$n" -o jsonpath='{.spec.podCIDR}' 2>/dev/null || true)
    [ -n "${CIDR[$n]}" ] && break; sleep 0.5
  done
  [ -n "${CIDR[$n]}" ] || die "node $n has no podCIDR"
  IP[$n]=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$n")
done
vpccni() { # vpccni NODE: the VPC CNI's binaries on a worker, skipped when the node has this build
  if [ "$(docker exec "$1" cat $VKEY 2>/dev/null || true)" = "$(cat "$VBIN/.key")" ]; then return 0; fi
  docker cp "$VBIN/aws-cni" "$1:/opt/cni/bin/aws-cni"
  docker cp "$VBIN/egress-cni" "$1:/opt/cni/bin/egress-cni"
  docker cp "$VBIN/ipamd-standin" "$1:/usr/local/bin/ipamd-standin"
  docker exec "$1" sh -c "mkdir -p ${VKEY%/*} && cat > $VKEY" <"$VBIN/.key"
}
VPCCNI=0
for n in "${NODES[@]}"; do
  case $n in *-control-plane*) ;; *) if [ -x "$VBIN/aws-cni" ]; then vpccni "$n"; VPCCNI=$((VPCCNI + 1)); fi ;; esac
  [ "$PORTMAP" = portmap ] || docker cp "$BIN/$PORTMAP" "$n:/opt/cni/bin/$PORTMAP"
  routes=; for m in "${NODES[@]}"; do [ "$m" = "$n" ] || routes="$routes ${CIDR[$m]}=${IP[$m]}"; done
  masq="POSTROUTING -s $POD_SUBNET ! -d $POD_SUBNET -m addrtype ! --dst-type LOCAL -m comment --comment netchaos-masq -j MASQUERADE"
  # One shell on the node for all of it (a docker exec costs ~0.3 s here; lab.sh switches profiles often).
  docker exec -i "$n" sh -s <<SCRIPT || die "setting up the CNI on $n failed"
set -e
mtu=\$(cat /sys/class/net/eth0/mtu)
mkdir -p /etc/cni/net.d
cat > /etc/cni/net.d/10-netchaos.conflist.tmp <<JSON
{
  "cniVersion": "0.4.0",
  "name": "netchaos",
  "plugins": [
    { "type": "ptp", "ipMasq": false, "mtu": \$mtu,
      "ipam": { "type": "host-local", "dataDir": "/run/cni-ipam-state",
                "routes": [ { "dst": "0.0.0.0/0" } ],
                "ranges": [ [ { "subnet": "${CIDR[$n]}" } ] ] } },
    { "type": "$PORTMAP", "snat": $SNAT, "capabilities": { "portMappings": true } }
  ]
}
JSON
mv /etc/cni/net.d/10-netchaos.conflist.tmp /etc/cni/net.d/10-netchaos.conflist
for r in $routes; do ip route replace "\${r%=*}" via "\${r#*=}"; done
iptables -t nat -C $masq 2>/dev/null || iptables -t nat -A $masq
# the drop lived on the nodes before; it stopped the entries forming
for chain in FORWARD OUTPUT; do iptables -D \$chain -d $SVC_SUBNET -m comment --comment netchaos-unrouted-service -j DROP 2>/dev/null || true; done
ip route replace blackhole ${CIDR[$n]}
echo "$CNI_KEY" > $CNI_MARK
SCRIPT
done
rule="DOCKER-USER -d $SVC_SUBNET -m comment --comment netchaos-unrouted-service -j DROP"
iptables -C $rule 2>/dev/null || iptables -I $rule || die "cannot add the host's drop for $SVC_SUBNET (DOCKER-USER)"
if [ $VPCCNI -gt 0 ]; then log cni "AWS VPC CNI plugins and stand-in ipamd on $VPCCNI workers (for T3)"
else log cni "no $VBIN/aws-cni: T3 cannot run its victims on the VPC CNI (vpccni.sh build makes it)"; fi
log cni "static CNI ($PROFILE) on ${#NODES[@]} nodes ($(for n in "${NODES[@]}"; do printf '%s=%s ' "${n#"$NAME"-}" "${CIDR[$n]}"; done))"
