#!/usr/bin/env bash
# The real AWS VPC CNI plugin (aws-cni, amazon-vpc-cni-k8s v1.20.0) sets up a
# pod as on an EKS node, in network namespaces of this machine, no docker, no
# kind. Three namespaces, all removed at the end:
#   node  the EKS node: eth0 (primary ENI, 10.0.0.10/24) and eth1 (the secondary
#         ENI, device number 1, 10.0.16.10/24 once ipamd set it up); the
#         stand-in ipamd runs here, and so does the plugin, as kubelet's
#         container runtime would run it
#   pod   the pod's sandbox (CNI_NETNS)
#   vpc   the VPC fabric (10.0.0.0/16): the other ends of eth0 and eth1, with
#         the subnets' gateways 10.0.0.1 and 10.0.16.1 (no packet is sent;
#         `ip route get` shows where the node would send the pod's packet to
#         another subnet of the VPC, 10.0.32.5)
# The stand-in ipamd does ipamd's node set-up with the VPC CNI's own
# networkutils (rule 1024 and iptables when the iptables command exists; eth1's
# route table 2 and rule 32765) and answers AddNetwork with a /32 from
# 10.0.16.0/24 on device 1, route table 2. Then aws-cni ADD (and egress-cni,
# second in EKS's 10-aws.conflist, disabled in an IPv4 cluster), checks, DEL,
# checks.
#   usage: netns-test.sh [--record DIR]   (root; DIR gets every recorded output)
# Binaries: $VPCCNI_BIN (default _out/vpccni/bin; tools/cluster/vpccni.sh build).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VBIN=${VPCCNI_BIN:-$ROOT/_out/vpccni/bin}
RECORD=
[ "${1:-}" = --record ] && RECORD=${2:?--record needs a directory}

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: netns-test.sh needs root (it creates network namespaces and veth pairs)"
  exit 0
fi
for c in ip jq go; do command -v $c >/dev/null || { echo "error: $c is needed" >&2; exit 1; }; done
for b in aws-cni egress-cni ipamd-standin; do
  [ -x "$VBIN/$b" ] || { echo "error: $VBIN/$b missing: run tools/cluster/vpccni.sh build" >&2; exit 1; }
done

ID=$$
NODE=vpccni-node-$ID POD=vpccni-pod-$ID VPC=vpccni-vpc-$ID
WORK=$(mktemp -d /tmp/vpccni-netns-test.XXXXXX)
STANDIN_PID=
cleanup() {
  [ -n "$STANDIN_PID" ] && kill "$STANDIN_PID" 2>/dev/null && wait "$STANDIN_PID" 2>/dev/null || true
  for n in "$POD" "$NODE" "$VPC"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

pass=0 fail=0
check() { # check DESCRIPTION FILE EXTENDED-REGEX: the file has a line matching
  if grep -Eq -- "$3" "$2"; then pass=$((pass + 1)); echo "ok   $1"
  else fail=$((fail + 1)); echo "FAIL $1: no line matching /$3/ in:"; sed 's/^/       /' "$2"; fi
}
check_not() {
  if grep -Eq -- "$3" "$2"; then fail=$((fail + 1)); echo "FAIL $1: a line matches /$3/:"; grep -E -- "$3" "$2" | sed 's/^/       /'
  else pass=$((pass + 1)); echo "ok   $1"; fi
}
innode() { ip netns exec "$NODE" "$@"; }
snapshot() { # snapshot NAME: the node's ip rules and every route table
  innode ip rule >"$WORK/$1.ip-rule.txt"
  innode ip route show table all >"$WORK/$1.ip-route.txt"
  innode ip addr >"$WORK/$1.ip-addr.txt"
}

# --- the node, the pod sandbox and the VPC --------------------------------------
ip netns add "$NODE"; ip netns add "$POD"; ip netns add "$VPC"
ip -n "$NODE" link set lo up; ip -n "$POD" link set lo up; ip -n "$VPC" link set lo up
ip -n "$NODE" link add eth0 address 02:00:00:00:00:10 type veth peer name eni0-vpc address 02:00:00:00:01:10 netns "$VPC"
ip -n "$NODE" link add eth1 address 02:00:00:00:00:11 type veth peer name eni1-vpc address 02:00:00:00:01:11 netns "$VPC"
ip -n "$NODE" addr add 10.0.0.10/24 dev eth0
ip -n "$NODE" link set eth0 up
ip -n "$NODE" route add default via 10.0.0.1 dev eth0
ip -n "$VPC" addr add 10.0.0.1/24 dev eni0-vpc; ip -n "$VPC" link set eni0-vpc up
ip -n "$VPC" addr add 10.0.16.1/24 dev eni1-vpc; ip -n "$VPC" link set eni1-vpc up
innode sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward; echo 2 >/proc/sys/net/ipv4/conf/eth0/rp_filter' # aws-vpc-cni-init's rp_filter

# --- the stand-in ipamd ------------------------------------------------------------
host_flags=(-primary-if eth0)
if ! command -v iptables >/dev/null; then
  echo "NOTE: no iptables command: ipamd's SetupHostNetwork (rule 1024, SNAT/CONNMARK) is skipped"
  host_flags=()
fi
# not through innode: `ip netns exec` and env exec, so $! is the stand-in itself
ip netns exec "$NODE" env AWS_VPC_K8S_CNI_LOG_FILE="$WORK/ipamd.log" "$VBIN/ipamd-standin" \
  -pod-cidr 10.0.16.0/24 -device-number 1 -vpc-cidrs 10.0.0.0/16 -state "$WORK/ipam.json" \
  "${host_flags[@]}" -eni-if eth1 -eni-ip 10.0.16.10 -eni-subnet 10.0.16.0/24 >"$WORK/standin.log" 2>&1 </dev/null &
STANDIN_PID=$!
for _ in $(seq 1 100); do
  grep -q 'serving CNIBackend' "$WORK/standin.log" && break
  kill -0 "$STANDIN_PID" 2>/dev/null || { cat "$WORK/standin.log" "$WORK/ipamd.log" >&2 2>/dev/null; echo "error: the stand-in ipamd exited" >&2; exit 1; }
  sleep 0.2
done
grep -q 'serving CNIBackend' "$WORK/standin.log" || { cat "$WORK/standin.log" >&2; echo "error: the stand-in ipamd did not start serving in 20 s" >&2; exit 1; }
snapshot 01-host-setup
command -v iptables >/dev/null && { innode iptables-save -t nat; innode iptables-save -t mangle; } | grep -v '^#' >"$WORK/01-host-setup.iptables.txt"

# --- EKS's conflist, rendered as aws-vpc-cni's entrypoint does for an IPv4 cluster
MODDIR=$(cd "$HERE" && GOFLAGS=-mod=mod go mod download -json github.com/aws/amazon-vpc-cni-k8s | jq -r .Dir)
sed -e 's#__VETHPREFIX__#eni#' -e 's#__MTU__#9001#g' -e 's#__PODSGENFORCINGMODE__#strict#' \
  -e "s#__PLUGINLOGFILE__#$WORK/plugin.log#" -e 's#__PLUGINLOGLEVEL__#Debug#g' \
  -e "s#__EGRESSPLUGINLOGFILE__#$WORK/egress-v6-plugin.log#" -e 's#__EGRESSPLUGINENABLED__#false#' \
  -e 's#__EGRESSPLUGINIPAMSUBNET__#fd00::ac:00/118#' -e 's#__EGRESSPLUGINIPAMDST__#::/0#' \
  -e 's#__EGRESSPLUGINIPAMDATADIR__#/run/cni/v4pd/egress-v6-ipam#' -e 's#__RANDOMIZESNAT__#prng#' -e 's#__NODEIP__##' \
  "$MODDIR/misc/10-aws.conflist" >"$WORK/10-aws.conflist"
jq -e . "$WORK/10-aws.conflist" >/dev/null || { echo "error: rendered 10-aws.conflist is not JSON" >&2; exit 1; }

# plugin N's stdin as libcni builds it: the list's name and cniVersion injected,
# runtimeConfig for its capabilities (containerd: the pod's annotations), and on
# a chained call or DEL the previous result
netconf() { # netconf INDEX [PREVRESULT-FILE]
  local prev=null; [ -n "${2:-}" ] && prev=$(cat "$2")
  jq -c --argjson i "$1" --argjson prev "$prev" '
    .plugins[$i] + {name: .name, cniVersion: .cniVersion}
    + (if .plugins[$i].capabilities["io.kubernetes.cri.pod-annotations"] then
         {runtimeConfig: {"io.kubernetes.cri.pod-annotations": {"kubernetes.io/config.source": "api"}}} else {} end)
    + (if $prev != null then {prevResult: $prev} else {} end)' "$WORK/10-aws.conflist"
}
CID=$(echo "netns-test-$ID" | sha256sum | cut -c1-64) # a containerd sandbox id
POD_NS=default POD_NAME=netns-test
cni() { # cni COMMAND PLUGIN INDEX [PREVRESULT-FILE]: run PLUGIN in the node namespace as the runtime does
  netconf "$3" "${4:-}" | innode env -i PATH="$PATH" \
    CNI_COMMAND="$1" CNI_CONTAINERID="$CID" CNI_NETNS="/var/run/netns/$POD" CNI_IFNAME=eth0 CNI_PATH="$VBIN" \
    CNI_ARGS="K8S_POD_INFRA_CONTAINER_ID=$CID;K8S_POD_UID=00000000-0000-4000-8000-00000000cafe;IgnoreUnknown=1;K8S_POD_NAMESPACE=$POD_NS;K8S_POD_NAME=$POD_NAME" \
    AWS_VPC_K8S_CNI_LOG_FILE="$WORK/plugin-init.log" "$VBIN/$2"
}

# --- ADD ----------------------------------------------------------------------------
cni ADD aws-cni 0 >"$WORK/02-add.aws-cni-result.json" || { cat "$WORK/02-add.aws-cni-result.json" "$WORK/plugin.log" >&2; echo "error: aws-cni ADD failed" >&2; exit 1; }
cni ADD egress-cni 1 "$WORK/02-add.aws-cni-result.json" >"$WORK/02-add.egress-cni-result.json" ||
  { cat "$WORK/02-add.egress-cni-result.json" >&2; echo "error: egress-cni ADD failed" >&2; exit 1; }
POD_IP=$(jq -r '.ips[0].address' "$WORK/02-add.aws-cni-result.json" | cut -d/ -f1)
HOST_VETH=$(jq -r '.interfaces[0].name' "$WORK/02-add.aws-cni-result.json")
echo "pod $POD_NS/$POD_NAME: $POD_IP, host side $HOST_VETH"
snapshot 02-add
ip -n "$POD" addr >"$WORK/02-add.pod-ip-addr.txt"
ip -n "$POD" route >"$WORK/02-add.pod-ip-route.txt"
ip -n "$POD" neigh >"$WORK/02-add.pod-ip-neigh.txt"
innode ip route get 10.0.32.5 from "$POD_IP" iif "$HOST_VETH" >"$WORK/02-add.route-get-pod-egress.txt"

R=$WORK/02-add.ip-rule.txt T=$WORK/02-add.ip-route.txt
[ ${#host_flags[@]} -gt 0 ] && check "rule 1024 fwmark (ipamd SetupHostNetwork)" "$R" '^1024:[[:space:]]+from all fwmark 0x80/0x80 lookup main$'
check "rule 512 to the pod (aws-cni)" "$R" "^512:[[:space:]]+from all to $POD_IP lookup main\$"
check "rule 1536 from the pod to the ENI's table 2 (aws-cni)" "$R" "^1536:[[:space:]]+from $POD_IP lookup 2\$"
check "rule 32765 from the ENI's address (ipamd SetupENINetwork)" "$R" '^32765:[[:space:]]+from 10\.0\.16\.10 lookup 2$'
check "host route to the pod /32 in main (aws-cni)" "$T" "^$POD_IP dev $HOST_VETH scope link[[:space:]]*\$"
check "table 2 default via the ENI's gateway (ipamd SetupENINetwork)" "$T" '^default via 10\.0\.16\.1 dev eth1 table 2'
check "table 2 gateway /32 (ipamd SetupENINetwork)" "$T" '^10\.0\.16\.1 dev eth1 table 2 scope link'
check "pod address /32 on eth0" "$WORK/02-add.pod-ip-addr.txt" "inet $POD_IP/32 scope global eth0"
check "pod default route via 169.254.1.1" "$WORK/02-add.pod-ip-route.txt" '^default via 169\.254\.1\.1 dev eth0'
check "pod link route to 169.254.1.1" "$WORK/02-add.pod-ip-route.txt" '^169\.254\.1\.1 dev eth0 scope link'
check "pod static neighbour 169.254.1.1" "$WORK/02-add.pod-ip-neigh.txt" '^169\.254\.1\.1 dev eth0 lladdr .* PERMANENT'
check "pod egress leaves by the secondary ENI eth1" "$WORK/02-add.route-get-pod-egress.txt" 'via 10\.0\.16\.1 dev eth1'
if cmp -s <(jq -S . "$WORK/02-add.aws-cni-result.json") <(jq -S . "$WORK/02-add.egress-cni-result.json"); then
  pass=$((pass + 1)); echo "ok   egress-cni (disabled) passes aws-cni's result through"
else fail=$((fail + 1)); echo "FAIL egress-cni changed aws-cni's result"; fi

# --- T3's mechanism: without rule 1536 the pod's egress falls to the main table --------
innode ip rule del pref 1536 from "$POD_IP" lookup 2
innode ip route get 10.0.32.5 from "$POD_IP" iif "$HOST_VETH" >"$WORK/02-add.route-get-pod-egress-without-1536.txt"
check "without rule 1536 the pod's egress leaves by eth0 (T3)" "$WORK/02-add.route-get-pod-egress-without-1536.txt" 'via 10\.0\.0\.1 dev eth0'
innode ip rule add pref 1536 from "$POD_IP" lookup 2

# --- DEL (libcni's order: last plugin first, each with the cached result) -------------
cni DEL egress-cni 1 "$WORK/02-add.egress-cni-result.json" >/dev/null || { fail=$((fail + 1)); echo "FAIL egress-cni DEL"; }
cni DEL aws-cni 0 "$WORK/02-add.egress-cni-result.json" >"$WORK/del-output.txt" ||
  { fail=$((fail + 1)); echo "FAIL aws-cni DEL:"; cat "$WORK/del-output.txt"; }
snapshot 03-del
R=$WORK/03-del.ip-rule.txt T=$WORK/03-del.ip-route.txt
check_not "DEL removed rule 512" "$R" "to $POD_IP lookup"
check_not "DEL removed rule 1536" "$R" "from $POD_IP lookup"
check_not "DEL removed the host route" "$T" "^$POD_IP "
[ ${#host_flags[@]} -gt 0 ] && check "rule 1024 stays (ipamd's, not the pod's)" "$R" '^1024:'
check "rule 32765 stays (ipamd's, not the pod's)" "$R" '^32765:'
check_not "the stand-in released the address" "$WORK/ipam.json" "$POD_IP"
cni DEL aws-cni 0 >/dev/null && { pass=$((pass + 1)); echo "ok   a second DEL (unknown sandbox) succeeds"; } ||
  { fail=$((fail + 1)); echo "FAIL a second DEL of the same sandbox failed"; }

if [ -n "$RECORD" ]; then
  mkdir -p "$RECORD"
  cp "$WORK"/0[123]-*.txt "$WORK/02-add.aws-cni-result.json" "$WORK/10-aws.conflist" "$RECORD/"
  echo "recorded into $RECORD"
fi
echo "netns-test: $pass passed, $fail failed"
[ "$fail" = 0 ]
