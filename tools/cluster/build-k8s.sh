#!/usr/bin/env bash
# Builds kubeadm, kubelet, kubectl and the control-plane/kube-proxy binaries for
# K8S_VERSION from the k8s.io/kubernetes Go module, through a generated wrapper
# module (never `go mod tidy` it) under $OUT/k8s/<version>. The default list
# also builds etcd: the go.etcd.io/etcd/server/v3 that release's go.mod pins
# (Kubernetes' integration tests run the same), in the same go build, so the 254
# of its 365 packages Kubernetes also uses (gRPC, protobuf, OpenTelemetry, zap,
# x/net, ...) compile once; a release whose go.mod lacks it gets no etcd here
# (images.sh then builds etcd on its own).
#   usage: build-k8s.sh <version> [command...]   -> $OUT/k8s/<version>/bin/*
# (the lab builds only kube-proxy of an older release: build-k8s.sh v1.31.14 kube-proxy)
source "$(dirname "$0")/lib.sh"
V=$1; shift
[[ $V =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || die "K8S_VERSION '$V' is not of the form v1.MINOR.PATCH"
MIN=${BASH_REMATCH[1]} PATCH=${BASH_REMATCH[2]}
D=$OUT/k8s/$V
CMDS=${*:-kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd}
ok=1; for c in $CMDS; do [ -x "$D/bin/$c" ] || { [ "$c" = etcd ] && [ -f "$D/no-etcd" ]; } || ok=0; done
if [ $ok = 1 ]; then log k8s "$V binaries cached"; exit 0; fi

# staging_version MODULE: the module's release of this Kubernetes patch (v0.MIN.PATCH),
# or when the proxy does not serve that one (it skips some of v1.31's, e.g.
# k8s.io/kube-proxy v0.31.14), the newest v0.MIN.x before it that it serves: staging
# modules change little between patches. A module served in neither way keeps
# v0.MIN.PATCH (the build fails only if it needs it).
staging_version() {
  local want=v0.$MIN.$PATCH got= l=$D/fetch.log
  (cd "$OUT" && fetching "$l" env GOFLAGS=-mod=mod go mod download "$1@$want") && { echo "$want"; return; }
  if (cd "$OUT" && fetching "$l" env GOFLAGS=-mod=mod go list -m -versions "$1"); then
    got=$(tr ' ' '\n' <"$l" | awk -F. -v min="$MIN" -v p="$PATCH" '$2 == min && $3 ~ /^[0-9]+$/ && $3 + 0 < p' | sort -t. -k3,3n | tail -1)
  fi
  if [ -n "$got" ]; then log k8s "$1 $want is not served: using $got" >&2
  else log k8s "$1: $want is not served and no earlier v0.$MIN.x is listed: keeping $want" >&2; fi
  echo "${got:-$want}"
}

log k8s "downloading k8s.io/kubernetes@$V"
mkdir -p "$D/mod" "$D/bin"
KDIR=$(moddir "k8s.io/kubernetes@$V")
[ -n "$KDIR" ] && [ -f "$KDIR/go.mod" ] ||
  die "unknown K8S_VERSION $V: the Go module proxy does not serve k8s.io/kubernetes@$V (try: go list -m -versions k8s.io/kubernetes)"
{
  echo 'module local/k8sbuild'; echo
  echo "go $(awk '/^go /{print $2; exit}' "$KDIR/go.mod")"; echo
  echo "require k8s.io/kubernetes $V"; echo
  echo 'replace ('
  for m in $(grep '=> ./staging' "$KDIR/go.mod" | awk '{print $1}'); do echo "	$m => $m $(staging_version "$m")"; done
  echo ')'
} >"$D/mod/go.mod"
LDF="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDF="$LDF -X $p.gitVersion=$V -X $p.gitMajor=1 -X $p.gitMinor=$MIN -X $p.gitTreeState=clean"
  LDF="$LDF -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=1970-01-01T00:00:00Z"
done
ETCD_MOD=go.etcd.io/etcd/server/v3
pkgs=()
for c in $CMDS; do
  if [ "$c" != etcd ]; then pkgs+=("k8s.io/kubernetes/cmd/$c")
  elif grep -q "^\s*$ETCD_MOD v" "$KDIR/go.mod"; then pkgs+=("$ETCD_MOD"); rm -f "$D/no-etcd"
  else log k8s "$V's go.mod has no $ETCD_MOD: etcd is built on its own"; touch "$D/no-etcd"; fi
done
log k8s "go build $CMDS ($V; cold: several minutes)"
# tools/ipvsmodel tests kube-proxy's IPVS proxier with these same flags (CGO_ENABLED=0, -trimpath,
# the tags): keep them in step, so the packages both compile come from one build cache entry.
(cd "$D/mod" && fetching "$D/build.log" env GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -tags selinux,notest,grpcnotrace \
  -ldflags "$LDF" -o "$D/bin/" "${pkgs[@]}") ||
  { tail -20 "$D/build.log" >&2; die "building Kubernetes $V failed (log: $D/build.log)"; }
[ -x "$D/bin/server" ] && mv "$D/bin/server" "$D/bin/etcd"   # go build names go.etcd.io/etcd/server/v3 "server"
if [ -x "$D/bin/kubeadm" ]; then got=$("$D/bin/kubeadm" version -o short); else got=$("$D/bin/${CMDS%% *}" --version | awk '{print $2}'); fi
[ "$got" = "$V" ] || die "${CMDS%% *} reports $got, expected $V"
log k8s "$V binaries built"
