#!/usr/bin/env bash
# T3 on kind, in network namespaces of this machine (no docker, no kind): the real aws-cni and
# the stand-in ipamd with the flags, conflist, nftables guard, peer routes and restore loops T3
# renders (experiments/networkdrestart/testdata/*.sh.golden), then what networkd's flush and
# each mitigation do to each flow. Namespaces, all removed at the end:
#   br    the Docker network's bridge
#   w0    the affected node: eth0 172.30.0.2/16, the ENI macvlan ncx-eth1, stand-in ipamd
#   w1    the peer: eth0 172.30.0.3/16, the ENI subnet's gateway, echo servers (UDP, TCP :9000)
#   pod   the victim client on aws-cni;  srv  the victim server on aws-cni (behind a NodePort DNAT)
# Flows: egress UDP/TCP pod -> w1:9000 (rule 1536, the ENI), NodePort TCP w1 -> w0:30001 -> srv
# (replies by rule 1024), control UDP w0 (host) -> w1:9000.
#   usage: t3-netns-test.sh   (root; binaries from $VPCCNI_BIN, default _out/vpccni/bin)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VBIN=${VPCCNI_BIN:-$ROOT/_out/vpccni/bin}
G=$ROOT/experiments/networkdrestart/testdata
if [ "$(id -u)" != 0 ]; then echo "SKIP: t3-netns-test.sh needs root"; exit 0; fi
for c in ip jq nft iptables iptables-save python3; do command -v $c >/dev/null || { echo "error: $c is needed" >&2; exit 1; }; done
for b in aws-cni ipamd-standin; do [ -x "$VBIN/$b" ] || { echo "error: $VBIN/$b missing: tools/cluster/vpccni.sh build" >&2; exit 1; }; done

P=t3n$$ WORK=$(mktemp -d /tmp/t3-netns-test.XXXXXX)
BR=$P-br W0=$P-w0 W1=$P-w1 POD=$P-pod SRV=$P-srv
IPAMD=
cleanup() {
  [ -n "$IPAMD" ] && kill "$IPAMD" 2>/dev/null || true
  kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true
  for n in $POD $SRV $W0 $W1 $BR; do ip netns del $n 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
pass=0 fail=0
check() { # check DESCRIPTION GOT WANT
  if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1: got $2, want $3"; fi
}
in0() { ip netns exec $W0 "$@"; }

# --- the Docker network, the nodes, the peer's side of the ENI (peer.sh), the ENI and the guard (standin.sh)
for n in $BR $W0 $W1 $POD $SRV; do ip netns add $n; ip -n $n link set lo up; done
ip -n $BR link add br0 type bridge; ip -n $BR link set br0 up
i=2; for n in $W0 $W1; do
  ip -n $BR link add p$i type veth peer name eth0 netns $n; ip -n $BR link set p$i master br0 up
  ip -n $n link set eth0 up; ip -n $n addr add 172.30.0.$i/16 dev eth0; i=$((i + 1))
done
in0 sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter' # strict, as on kind nodes
sed -n '/^ip addr replace/,$p' $G/peer.sh.golden | ip netns exec $W1 sh -e
sed -n '/^ip link show ncx-eth1/,/^echo 2 > .*rp_filter$/p' $G/standin-kind.sh.golden | sed "s#/run/netchaos/t3#$WORK#g" | in0 sh -e # the ENI, aws-vpc-cni-init's rp_filter
sed -n '/^nft -f - <</,/^NFT/p' $G/standin-kind.sh.golden | sed '1d;$d' | in0 nft -f -

# --- the stand-in ipamd with ipamd.sh's flags (this "VPC": the two nodes and the ENI subnet)
flags=$(sed -n '/ipamd-standin /,/-state/p' $G/ipamd-start.sh.golden | tr -d '\\\n' | sed -e 's#.*/ipamd-standin##' -e 's#-state [^ ]*##' -e 's#-vpc-cidrs [^ ]*#-vpc-cidrs 172.30.0.2/32,172.30.0.3/32,192.0.2.0/24#' -e 's#>/dev/null##')
start_ipamd() {
  ip netns exec $W0 env AWS_VPC_ENI_MTU=1500 $VBIN/ipamd-standin $flags -state $WORK/ipam.json >>$WORK/ipamd.log 2>&1 </dev/null &
  IPAMD=$!
  for _ in $(seq 50); do in0 ss -Hltn 'sport = :50051' | grep -q . && return 0; sleep 0.2; done
  cat $WORK/ipamd.log >&2; echo "error: the stand-in ipamd does not serve" >&2; exit 1
}
stop_ipamd() { kill $IPAMD; wait $IPAMD 2>/dev/null || true; IPAMD=; }
start_ipamd

# --- cni-on.sh's conflist (MTU 1500, logs here); the plugin as containerd runs it
sed -n '/<<JSON/,/^JSON/p' $G/cni-on.sh.golden | sed -e '1d;$d' -e 's/\$mtu/1500/' -e "s#/run/netchaos/t3#$WORK#" >$WORK/10-aws.conflist
jq -e . $WORK/10-aws.conflist >/dev/null
add() { # add NETNS NAME: aws-cni ADD, prints the pod's address
  local cid; cid=$(echo "$2-$$" | sha256sum | cut -c1-64)
  jq -c '.plugins[0] + {name: .name, cniVersion: .cniVersion}' $WORK/10-aws.conflist | in0 env -i PATH=$PATH \
    CNI_COMMAND=ADD CNI_CONTAINERID=$cid CNI_NETNS=/var/run/netns/$1 CNI_IFNAME=eth0 CNI_PATH=$VBIN \
    CNI_ARGS="K8S_POD_INFRA_CONTAINER_ID=$cid;K8S_POD_NAMESPACE=t3;K8S_POD_NAME=$2;IgnoreUnknown=1" \
    AWS_VPC_K8S_CNI_LOG_FILE=$WORK/plugin-init.log $VBIN/aws-cni | jq -r '.ips[0].address' | cut -d/ -f1
}
PIP=$(add $POD eni-pod) SIP=$(add $SRV eni-server)
echo "eni-pod $PIP, eni-server $SIP; the node's rules and routes:"
in0 ip rule | sed 's/^/    /'
in0 ip route show table all | grep -vE '^(local|broadcast|multicast) |table local|^fe80|^ff00' | sed 's/^/    /'
in0 ip rule >$WORK/rules.set

# --- echo servers, the NodePort as kube-proxy makes it (DNAT, masquerade: eTP=Cluster)
cat >$WORK/srv.py <<'PY'
import socket, sys, threading
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 9000))
    while True:
        d, a = s.recvfrom(100); s.sendto(d, a)
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], 9000)); s.listen(50)
    while True:
        c, _ = s.accept(); c.sendall(c.recv(100)); c.close()
threading.Thread(target=udp, daemon=True).start(); tcp()
PY
cat >$WORK/cli.py <<'PY'
import socket, sys
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    if mode == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); s.sendto(b"x", (host, port)); s.recvfrom(10)
    else:
        s = socket.create_connection((host, port), timeout=1); s.sendall(b"x"); s.recv(10)
    print("up")
except Exception:
    print("down")
PY
ip netns exec $W1 python3 $WORK/srv.py 172.30.0.3 & ip netns exec $SRV python3 $WORK/srv.py 0.0.0.0 &
in0 iptables -t nat -A PREROUTING -d 172.30.0.2 -p tcp --dport 30001 -j DNAT --to-destination $SIP:9000
in0 iptables -t nat -A POSTROUTING -d $SIP -p tcp --dport 9000 -j MASQUERADE
sleep 0.7
flows() { # flows STEP EGRESS NODEPORT: every flow checked
  check "$1: egress-udp" "$(ip netns exec $POD python3 $WORK/cli.py udp 172.30.0.3 9000)" "$2"
  check "$1: egress-tcp" "$(ip netns exec $POD python3 $WORK/cli.py tcp 172.30.0.3 9000)" "$2"
  check "$1: nodeport-tcp" "$(ip netns exec $W1 python3 $WORK/cli.py tcp 172.30.0.2 30001)" "$3"
  check "$1: ctl-egress-udp" "$(in0 python3 $WORK/cli.py udp 172.30.0.3 9000)" up
}
has() { in0 ip rule | grep -E "^$1:[[:space:]]+$2\$" >/dev/null && echo yes || echo no; } # not -q: ip would die of SIGPIPE (pipefail)
flush() { for p in 512 1024 1536 32765; do while in0 ip rule del pref $p 2>/dev/null; do :; done; done; }
readd() { grep -E "^($1):" $WORK/rules.set | while IFS= read -r l; do in0 ip rule add pref "${l%%:*}" ${l#*:}; done; }
drops() { in0 nft list table ip netchaos_t3 | grep -F "$1" | grep -oE 'packets [0-9]+' | cut -d' ' -f2; }

flows "set up" up up
flush
flows "networkd's flush (512 1024 1536 32765 gone)" down up
check "the guard dropped ENI addresses leaving by eth0" "$([ "$(drops 'out of the primary ENI')" -gt 0 ] && echo yes)" yes
readd '512|1536'
flows "pods' rules re-added (CNI ADD), 1024 not" up down
check "the guard dropped NodePort replies leaving by the ENI" "$([ "$(drops 'out of the secondary ENI')" -gt 0 ] && echo yes)" yes
stop_ipamd; start_ipamd
check "ipamd restart: rule 1024 back" "$(has 1024 'from all fwmark 0x80/0x80 lookup main')" yes
flows "ipamd restarted" up up
flush; stop_ipamd; start_ipamd
check "flush, ipamd restart: rule 1024 back" "$(has 1024 'from all fwmark 0x80/0x80 lookup main')" yes
check "flush, ipamd restart: rule 32765 back" "$(has 32765 'from 192.0.2.10 lookup 2')" yes
check "flush, ipamd restart: rule 1536 NOT back (UpdateRuleListBySrc rewrites only existing rules)" "$(has 1536 "from $PIP lookup 2")" no
flows "flush, then ipamd restarted" down up

# --- restore.sh's loops: rules added since the snapshot deleted, ipamd's iptables rules and chains gone
stop_ipamd
printf '0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n' >$WORK/rules.before
in0 ip rule >$WORK/rules.now
sed -n '/^while IFS= read -r line; do$/,/^done < .*rules.now$/{p;/^done/q}' $G/restore-kind-networkd-inactive.sh.golden | sed "s#/run/netchaos/t3#$WORK#g" | in0 sh
check "restore: only the default rules left" "$(in0 ip rule | wc -l)" 3
sed -n '/^for t in nat mangle/,/^for c in/p' $G/restore-kind-networkd-inactive.sh.golden | in0 sh
check "restore: no AWS iptables rule or chain left" "$(in0 iptables-save | grep -c AWS || true)" 0
echo "t3-netns-test: $pass passed, $fail failed"
[ "$fail" = 0 ]
