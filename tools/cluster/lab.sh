#!/usr/bin/env bash
# Puts a running kind cluster of this lab into a lab profile: a configuration
# in which one of the documented outages really happens (a positive control)
# or its fixed twin. The CNI half changes only pods created afterwards; the
# kube-proxy half rolls the kube-proxy DaemonSet. The profile is recorded in
# ConfigMap kube-system/netchaos-lab, which netchaos reads into every report
# ("lab profile: ..."), so a control run is never mistaken for a release.
#   usage: lab.sh <cluster-name> <kubeconfig> <profile>
#          lab.sh build <k8s-version>   every profile's builds, no cluster needed beyond the
#                                       release's images (make test runs it beside the suite)
# profiles:
#   default                   ptp /24 pods, Debian portmap 1.1.1 (snat on), kube-proxy as released
#   vpc-like                  portmap "snat": false, as the AWS VPC CNI's /32 pods (T1 control)
#   portmap-v0.8.7            vpc-like with portmap v0.8.7, before containernetworking/plugins#553
#                             (T1 reverse-direction control)
#   kube-proxy-no-ct-cleanup  default CNI; kube-proxy built from the same release with its UDP
#                             conntrack cleanup disabled (patches/kube-proxy-no-conntrack-cleanup.patch;
#                             T2 "never recovers" control, not a release)
#   kube-proxy-v1.31          default CNI; kube-proxy $OLD_PROXY_VERSION (the release before the v1.32
#                             conntrack reconciler) built from its module, on the cluster's release
#                             (within the version skew policy); fixed twin of T2 held at zero (#139628)
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.sh"
if [ "${1:-}" = build ]; then
  PROFILE=build V=${2:?usage: lab.sh build <k8s-version>}
else
  NAME=$1 KCFG=$2 PROFILE=$3
  KUBECTL="$BIN/kubectl --kubeconfig $KCFG --context kind-$NAME"
  CONFIG=${KIND_CONFIG:-$ROOT/kind-config.yaml}
  POD_SUBNET=$(awk '/podSubnet:/{print $2; exit}' "$CONFIG")
  SVC_SUBNET=$(awk '/serviceSubnet:/{print $2; exit}' "$CONFIG")
  V=$($KUBECTL get nodes -o jsonpath='{.items[0].status.nodeInfo.kubeletVersion}') || die "cluster $NAME unreachable"
fi

case $PROFILE in
  default) cni=default proxy=release
    desc= ;;
  vpc-like) cni=vpc-like proxy=release
    desc="vpc-like: portmap does not masquerade pod traffic to a hostPort (as the AWS VPC CNI's /32 pod addresses); positive control for T1" ;;
  portmap-v0.8.7) cni=portmap-v0.8.7 proxy=release
    desc="portmap-v0.8.7: portmap v0.8.7, before containernetworking/plugins#553 (no UDP conntrack cleanup on ADD), without masquerade; positive control for T1 in the hostNetwork → hostPort direction" ;;
  kube-proxy-no-ct-cleanup) cni=default proxy=no-ct-cleanup
    desc="kube-proxy-no-ct-cleanup: kube-proxy $V built with its UDP conntrack cleanup disabled (a control build, not a release); positive control for T2" ;;
  build) ;;
  kube-proxy-v1.31) cni=default proxy=old
    desc="kube-proxy-v1.31: kube-proxy $OLD_PROXY_VERSION (built from its release's module) on a $V cluster, the release before the v1.32 conntrack reconciler; fixed twin for T2 held at zero backends (kubernetes#139628)" ;;
  *) die "unknown lab profile $PROFILE (default, vpc-like, portmap-v0.8.7, kube-proxy-no-ct-cleanup, kube-proxy-v1.31)" ;;
esac

build_portmap_v087() { # the plugin from its own go.mod (its vendor/ is not in the module zip)
  [ -x "$BIN/portmap-v0.8.7" ] && return
  local src d=$OUT/gobuild/portmap-v0.8.7; mkdir -p "$OUT/gobuild"
  src=$(moddir github.com/containernetworking/plugins@v0.8.7)
  [ -d "$src" ] || die "github.com/containernetworking/plugins@v0.8.7 is not served by the Go module proxy"
  log lab "go build portmap v0.8.7"
  rm -rf "$d"; cp -r "$src" "$d"; chmod -R u+w "$d"
  (cd "$d" && fetching "$d.log" env GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/portmap-v0.8.7" ./plugins/meta/portmap) || { tail -20 "$d.log" >&2; die "building portmap v0.8.7 failed (log: $d.log)"; }
}

# control_proxy_image: kube-proxy $V from a writable copy of the module with the
# patch applied, built through the release's wrapper module, on the release's base.
control_proxy_image() {
  local img=netchaos/kube-proxy:$V-no-ct-cleanup patch=$HERE/patches/kube-proxy-no-conntrack-cleanup.patch
  local key; key=$(cat "$patch" | md5sum | cut -c1-12)
  [ "$(docker image inspect -f '{{index .Config.Labels "netchaos.patch"}}' "$img" 2>/dev/null)" = "$key" ] && { echo "$img"; return; }
  local D=$OUT/k8s/$V src mod base
  [ -f "$D/mod/go.mod" ] || "$HERE/build-k8s.sh" "$V" >&2
  src=$(cd "$D/mod" && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' k8s.io/kubernetes)
  log lab "kube-proxy $V with its conntrack cleanup disabled (control build)" >&2
  rm -rf "$D/src-control" "$D/mod-control"; cp -r "$src" "$D/src-control"; chmod -R u+w "$D/src-control"
  (cd "$D/src-control" && patch -p1 --quiet <"$patch") || die "the control patch does not apply to $V"
  mkdir -p "$D/mod-control"
  { cat "$D/mod/go.mod"; echo "replace k8s.io/kubernetes => ../src-control"; } >"$D/mod-control/go.mod"
  cp "$D/mod/go.sum" "$D/mod-control/" 2>/dev/null || true
  local ldf="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$V-netchaos-control -X $p.gitMajor=1 -X $p.gitMinor=${V#v1.}"
  done
  (cd "$D/mod-control" && fetching "$D/control-build.log" env GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -tags selinux,notest,grpcnotrace \
    -ldflags "$ldf" -o "$D/control/kube-proxy" k8s.io/kubernetes/cmd/kube-proxy) ||
    { tail -20 "$D/control-build.log" >&2; die "building the control kube-proxy failed (log: $D/control-build.log)"; }
  wrap_proxy_image "$D/control/kube-proxy" "$img" "netchaos.patch=$key"
  rm -rf "$D/src-control"
  echo "$img"
}

# old_proxy_image: kube-proxy $OLD_PROXY_VERSION, a release built from its module.
old_proxy_image() {
  local img=netchaos/kube-proxy:$OLD_PROXY_VERSION
  have_image "$img" && { echo "$img"; return; }
  "$HERE/build-k8s.sh" "$OLD_PROXY_VERSION" kube-proxy >&2
  wrap_proxy_image "$OUT/k8s/$OLD_PROXY_VERSION/bin/kube-proxy" "$img" "netchaos.kube-proxy=$OLD_PROXY_VERSION"
  echo "$img"
}

# wrap_proxy_image BINARY IMAGE LABEL: the cluster's release kube-proxy image (its
# iptables, nftables and conntrack) with only the binary replaced.
wrap_proxy_image() {
  have_image "registry.k8s.io/kube-proxy:$V" || die "no registry.k8s.io/kube-proxy:$V image (make images builds it)"
  local d; d=$(mktemp -d "$OUT/img.XXXX")
  install -D -m0755 "$1" "$d/usr/local/bin/kube-proxy"
  printf 'FROM registry.k8s.io/kube-proxy:%s\nLABEL %s\nCOPY usr /usr\n' "$V" "$3" >"$d/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$2" "$d" >/dev/null || die "kube-proxy image $2 build failed"
  rm -rf "$d"
  log lab "built $2" >&2
}

set_proxy_image() { # set_proxy_image IMAGE: roll kube-proxy to IMAGE (no-op when it runs it)
  local cur; cur=$($KUBECTL -n kube-system get ds kube-proxy -o jsonpath='{.spec.template.spec.containers[0].image}')
  [ "$cur" = "$1" ] && return
  log lab "kube-proxy: $cur -> $1"
  $KUBECTL -n kube-system set image ds/kube-proxy "kube-proxy=$1" >/dev/null
  $KUBECTL -n kube-system rollout status ds/kube-proxy --timeout=180s >/dev/null || die "kube-proxy did not roll out $1"
}

# locked NAME CMD...: CMD holding lock NAME, so that a profile switch waits for
# the same build running beside the suite (lab.sh build) instead of racing it.
locked() { ( flock 9; "${@:2}" ) 9>"$OUT/lab-$1.lock"; }
if [ "$PROFILE" = build ]; then   # quickest first: the switches that need them wait least
  t0=$(date +%s)
  locked portmap build_portmap_v087
  locked control control_proxy_image >/dev/null
  locked old old_proxy_image >/dev/null
  log lab "every profile's builds ready in $(( $(date +%s) - t0 )) s"
  exit 0
fi
[ "$cni" = portmap-v0.8.7 ] && locked portmap build_portmap_v087
img=registry.k8s.io/kube-proxy:$V
case $proxy in old) img=$(locked old old_proxy_image) ;; no-ct-cleanup) img=$(locked control control_proxy_image) ;; esac
"$HERE/cni.sh" "$NAME" "$KCFG" "$POD_SUBNET" "$SVC_SUBNET" "$cni"
if [ "$proxy" != release ]; then
  "$BIN/kind" load docker-image --name "$NAME" "$img" >/dev/null 2>&1 || die "kind load docker-image $img failed"
fi
set_proxy_image "$img"
if [ -z "$desc" ]; then
  $KUBECTL -n kube-system delete configmap netchaos-lab --ignore-not-found >/dev/null
else
  $KUBECTL -n kube-system create configmap netchaos-lab --from-literal=profile="$PROFILE" --from-literal=description="$desc" \
    --dry-run=client -o yaml | $KUBECTL apply -f - >/dev/null
fi
log lab "cluster $NAME in lab profile $PROFILE"
