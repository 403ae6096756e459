#!/usr/bin/env bash
# Creates (or reuses) the kind cluster: nodes from netchaos/kind-node:<version>,
# static CNI, project images loaded, MetalLB, all nodes Ready and CoreDNS up.
#   usage: cluster.sh <name> <k8s-version> <kube-proxy-mode> <kubeconfig> <config>
source "$(dirname "$0")/lib.sh"
NAME=$1 V=$2 MODE=$3 KCFG=$4 CONFIG=$5
KIND=$BIN/kind KUBECTL="$BIN/kubectl --kubeconfig $KCFG --context kind-$NAME"
NODE_IMAGE=netchaos/kind-node:$V
POD_SUBNET=$(awk '/podSubnet:/{print $2; exit}' "$CONFIG")
SVC_SUBNET=$(awk '/serviceSubnet:/{print $2; exit}' "$CONFIG")
LAB_PROFILE=${LAB_PROFILE:-default}
case $MODE in iptables|nftables) ;; *) die "KUBE_PROXY_MODE=$MODE is not supported here (iptables or nftables; no IPVS in this kernel)";; esac
[ -x "$KIND" ] || (cd "$ROOT" && go build -o "$KIND" sigs.k8s.io/kind) || die "building kind failed"
ln -sf "$OUT/k8s/$V/bin/kubectl" "$BIN/kubectl"

ready() { # all nodes Ready and the cluster runs the requested version/mode
  local st; st=$($KUBECTL get nodes --no-headers 2>/dev/null) || return 1
  [ -n "$st" ] && ! echo "$st" | awk '{print $2}' | grep -qv '^Ready$' || return 1
  echo "$st" | awk '{print $5}' | grep -qvx "$V" && return 1
  $KUBECTL -n kube-system get cm kube-proxy -o jsonpath='{.data.config\.conf}' | grep -q "^mode: $MODE" || return 1
}

images=()   # kubeadm's, MetalLB's and busybox images are preloaded in the node image
have_image netchaos/probe:dev && images+=(netchaos/probe:dev)

if "$KIND" get clusters 2>/dev/null | grep -qx "$NAME"; then
  # (re)write this cluster's context into KCFG; kind merges, other clusters' contexts stay
  mkdir -p "$(dirname "$KCFG")"; "$KIND" export kubeconfig --name "$NAME" --kubeconfig "$KCFG" >/dev/null 2>&1 || true
  "$HERE/cni.sh" "$NAME" "$KCFG" "$POD_SUBNET" "$SVC_SUBNET" >/dev/null 2>&1 || true   # routes are lost when nodes restart
  if ready; then
    "$HERE/lab.sh" "$NAME" "$KCFG" "$LAB_PROFILE"
    [ ${#images[@]} = 0 ] || "$KIND" load docker-image --name "$NAME" "${images[@]}" >/dev/null 2>&1 || true
    log cluster "cluster $NAME already Ready ($V, kube-proxy $MODE), reused; KUBECONFIG=$KCFG"
    exit 0
  fi
  log cluster "cluster $NAME exists but is not Ready (or runs another version/mode): re-creating"
  "$KIND" delete cluster --name "$NAME" --kubeconfig "$KCFG" >/dev/null 2>&1
fi

cfg=$OUT/kind-config.$MODE.yaml
sed "s/^\(\s*kubeProxyMode:\).*/\1 $MODE/" "$CONFIG" >"$cfg"
mkdir -p "$(dirname "$KCFG")"
log cluster "kind create cluster $NAME ($V, kube-proxy $MODE, 3 nodes)"
"$KIND" create cluster --name "$NAME" --config "$cfg" --image "$NODE_IMAGE" --kubeconfig "$KCFG" --wait 0s \
  >"$OUT/kind-create.log" 2>&1 || { tail -30 "$OUT/kind-create.log" >&2; die "kind create cluster failed (log: $OUT/kind-create.log)"; }
log cluster "control plane up"
"$HERE/cni.sh" "$NAME" "$KCFG" "$POD_SUBNET" "$SVC_SUBNET"
loader=
if [ ${#images[@]} -gt 0 ]; then   # in the background while the nodes settle
  log cluster "loading ${images[*]}"
  "$KIND" load docker-image --name "$NAME" "${images[@]}" >"$OUT/kind-load.log" 2>&1 & loader=$!
fi
$KUBECTL wait --for=condition=Ready nodes --all --timeout=180s >/dev/null || die "nodes not Ready"
log cluster "nodes Ready"
$KUBECTL -n kube-system rollout status deploy/coredns --timeout=180s >/dev/null || die "CoreDNS not ready"
log cluster "CoreDNS ready"
"$HERE/metallb.sh" "$NAME" "$KCFG"
if [ -n "$loader" ]; then
  wait "$loader" || { cat "$OUT/kind-load.log" >&2; die "kind load docker-image failed"; }
  log cluster "loaded ${images[*]}"
fi
[ "$LAB_PROFILE" = default ] || "$HERE/lab.sh" "$NAME" "$KCFG" "$LAB_PROFILE"
log cluster "cluster $NAME Ready; KUBECONFIG=$KCFG"
