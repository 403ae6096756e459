#!/usr/bin/env bash
# Chaos Mesh built offline from its Go module sources and installed into a kind
# cluster: the controller-manager and chaos-daemon, with the CRDs from the same
# module download and a minimal deployment (no dashboard, no DNS server, no
# admission webhooks, no mTLS between controller and daemon, no cloud chaos or
# RemoteCluster controllers: see without_cloud_chaos).
#   chaosmesh.sh build                           build the two images (cached by their inputs)
#   chaosmesh.sh install <cluster> <kubeconfig>  build, load into kind, apply; skips what is current
#   chaosmesh.sh uninstall <cluster> <kubeconfig>
#   chaosmesh.sh manifest                        print what install applies besides the CRDs
# Variables: KIND, KUBECTL (default $OUT/bin/kind, $OUT/bin/kubectl).
#
# What cannot come from Go modules or Debian, and so is missing from the
# chaos-daemon image: toda (Rust, IOChaos), tproxy (Rust, HTTPChaos), memStress
# (StressChaos memory), byteman (JVMChaos). nsexec, which NetworkChaos needs
# to enter pod network namespaces, is a release download upstream; here it is
# tools/cluster/chaosmesh/nsexec.c (same command line). NetworkChaos loss,
# delay, duplicate and corrupt build tc prio + sfq + netem qdiscs in the pod:
# kernels without sch_prio, sch_sfq, sch_netem (this machine's) fail them with
# "Specified qdisc kind is unknown"; the experiments detect that beforehand.
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.sh"

NS=chaos-mesh
CM_MOD=github.com/chaos-mesh/chaos-mesh
TAG=${CHAOSMESH_VERSION##*-}   # the commit
CTRL_IMG=netchaos/chaos-controller-manager:$TAG
DAEMON_IMG=netchaos/chaos-daemon:$TAG
DAEMON_BASE=netchaos/chaos-daemon-base:$(tools_base_tag | cut -d: -f2)-legacy
SRC=$OUT/chaosmesh/src-$TAG
KIND=${KIND:-$BIN/kind}
KUBECTL=${KUBECTL:-$BIN/kubectl}

srcsum() { local a; for a in "$@"; do if [ -f "$a" ]; then md5sum <"$a"; else echo "$a"; fi; done | md5sum | cut -c1-12; }
fresh() { [ "$(docker image inspect -f '{{index .Config.Labels "netchaos.src"}}' "$1" 2>/dev/null)" = "$(srcsum "${@:2}")" ]; }

source_tree() { # writable copy of the module download, api replace pointed at the proxy's api version
  [ -f "$SRC/.ready" ] && return
  local d; d=$(moddir "$CM_MOD@$CHAOSMESH_VERSION")
  [ -d "$d" ] || die "the Go module proxy does not serve $CM_MOD@$CHAOSMESH_VERSION"
  rm -rf "$SRC"; mkdir -p "$SRC"; cp -r "$d"/. "$SRC"/; chmod -R u+w "$SRC"
  (cd "$SRC" && go mod edit -replace "$CM_MOD/api=$CM_MOD/api@$CHAOSMESH_API_VERSION" -droptool k8s.io/code-generator/cmd/client-gen) ||
    die "editing chaos-mesh's go.mod failed"
  touch "$SRC/.ready"
}

without_cloud_chaos() { # the controller-manager without AWSChaos, GCPChaos, AzureChaos, RemoteCluster
  # Their controllers are the only importers of the AWS, GCP and Azure SDKs
  # (aws-sdk-go-v2/service/ec2, google.golang.org/api/compute, azure-sdk-for-go),
  # which are a large part of a cold build; they only call cloud APIs, which a
  # kind cluster has none of, and no experiment here uses them. Their CRDs stay.
  # RemoteCluster's controller (multi-cluster Chaos Mesh) is the only importer
  # of Helm, kustomize and oras: 270 of the two commands' 1361 packages; it
  # installs Chaos Mesh into other clusters, which this lab never asks for.
  local fx=$SRC/controllers/chaosimpl/fx.go top=$SRC/controllers/fx.go
  sed -i -E '/chaosimpl\/(aws|gcp|azure)chaos"$/d; /^\s*(aws|gcp|azure)chaos\.Module,$/d' "$fx"
  ! grep -qE '(aws|gcp|azure)chaos' "$fx" || die "could not drop the cloud chaos controllers from $fx"
  sed -i -E '/controllers\/multicluster\/remotecluster"$/d; /^\s*fx\.Invoke\(remotecluster\.Bootstrap\),$/d' "$top"
  ! grep -q 'remotecluster' "$top" || die "could not drop the RemoteCluster controller from $top"
}

build_binaries() { # both commands in one go build: one compile of what they share (nearly all of it)
  local key="$CHAOSMESH_VERSION $CHAOSMESH_API_VERSION $(md5sum <"$HERE/chaosmesh/nsexec.c") cgo-both no-cloud-chaos no-remotecluster"
  [ "$(cat "$BIN/chaosmesh.version" 2>/dev/null)" = "$key" ] && return
  ensure_pkgs gcc:gcc
  source_tree
  without_cloud_chaos
  local ld="-s -w -X github.com/chaos-mesh/chaos-mesh/pkg/version.gitVersion=$CHAOSMESH_VERSION"
  # chaos-daemon links the fake clock objects TimeChaos injects (cgo), as upstream
  # does; the controller-manager is built with cgo too, so that the two share
  # every compiled package (cgo changes the net package, and so all above it),
  # and runs on the daemon's Debian base for its libc.
  log chaos-mesh "go build chaos-controller-manager chaos-daemon (cgo)"
  (cd "$SRC" && for c in fake_clock_gettime fake_gettimeofday; do cc -c pkg/time/fakeclock/$c.c -fPIE -O2 -o pkg/time/fakeclock/$c.o; done &&
    fetching "$OUT/chaosmesh/build.log" env GOFLAGS=-mod=mod CGO_ENABLED=1 go build -trimpath -ldflags "$ld" -o "$BIN/" ./cmd/chaos-controller-manager ./cmd/chaos-daemon) \
    || { tail -20 "$OUT/chaosmesh/build.log" >&2; die "building Chaos Mesh failed (log: $OUT/chaosmesh/build.log)"; }
  gcc -O2 -static -o "$BIN/chaosmesh-pause" "$SRC/hack/pause.c" || die "building pause failed"
  gcc -O2 -Wall -static -o "$BIN/nsexec" "$HERE/chaosmesh/nsexec.c" || die "building nsexec failed"
  echo "$key" >"$BIN/chaosmesh.version"
}

build_daemon_base() { # the tools base (lib.sh) with legacy iptables, as upstream's chaos-daemon image
  have_image "$DAEMON_BASE" && return
  local base d; base=$(tools_base)   # (its TOOLS_DEBS hold upstream's iptables, ipset, iproute2, procps, ca-certificates)
  d=$(mktemp -d "$OUT/img.XXXX")
  # upstream's image switches to legacy iptables; rules go into pod network namespaces only
  printf 'FROM %s\nRUN update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null\n' "$base" >"$d/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$DAEMON_BASE" "$d" >"$OUT/chaosmesh/base.log" 2>&1 ||
    { cat "$OUT/chaosmesh/base.log" >&2; die "building the chaos-daemon base image failed"; }
  rm -rf "$d"
}

build_images() {
  local t0 base; t0=$(date +%s)
  build_daemon_base & base=$!   # Debian's packages download while Go compiles
  build_binaries
  wait "$base" || die "building the chaos-daemon base image failed"
  image "$CTRL_IMG" "$BIN/chaos-controller-manager"
  image "$DAEMON_IMG" "$BIN/chaos-daemon" "$BIN/chaosmesh-pause" "$BIN/nsexec"
  log chaos-mesh "images ready in $(( $(date +%s) - t0 )) s"
}

image() { # image REF BINARY...: the binaries in /usr/local/bin on the daemon base (skipped when current)
  local ref=$1 d b; shift
  fresh "$ref" "$DAEMON_BASE" "$@" && return
  d=$(mktemp -d "$OUT/img.XXXX")
  for b in "$@"; do install -D -m0755 "$b" "$d/usr/local/bin/$(basename "${b/chaosmesh-pause/pause}")"; done
  printf 'FROM %s\nLABEL netchaos.src=%s\nCOPY usr /usr\n' "$DAEMON_BASE" "$(srcsum "$DAEMON_BASE" "$@")" >"$d/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t "$ref" "$d" >"$OUT/chaosmesh/image.log" 2>&1 ||
    { cat "$OUT/chaosmesh/image.log" >&2; die "image $ref build failed"; }
  rm -rf "$d"
  log chaos-mesh "built $ref"
}

webhook_cert() { # self-signed: the controller's webhook server will not start without one; no webhook is registered
  local d=$OUT/chaosmesh/cert
  [ -f "$d/tls.crt" ] && return
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=chaos-mesh-controller-manager.$NS.svc" \
    -keyout "$d/tls.key" -out "$d/tls.crt" >/dev/null 2>&1 || die "openssl could not make the webhook certificate"
}

manifest() { # the deployment from chaosmesh/chaos-mesh.yaml with this install's images, key and certificate
  ensure_pkgs envsubst:gettext-base
  TLS_CRT=$(base64 -w0 <"$OUT/chaosmesh/cert/tls.crt") TLS_KEY=$(base64 -w0 <"$OUT/chaosmesh/cert/tls.key") \
    CTRL_IMG=$CTRL_IMG DAEMON_IMG=$DAEMON_IMG PAUSE_IMG=$PAUSE_IMG KEY=$KEY \
    envsubst '$TLS_CRT $TLS_KEY $CTRL_IMG $DAEMON_IMG $PAUSE_IMG $KEY' <"$HERE/chaosmesh/chaos-mesh.yaml"
}

# locked_build: build_images under a lock, so that an install waits for a build
# already running (make test's, beside the suite) instead of compiling it again
locked_build() { ( flock 9; build_images ) 9>"$OUT/chaosmesh/build.lock"; }

install_mesh() { # install_mesh CLUSTER KUBECONFIG
  local name=$1 kc=$2 t0; t0=$(date +%s)
  local K="$KUBECTL --kubeconfig $kc --context kind-$name"
  $K get nodes >/dev/null || die "cluster kind-$name does not answer (kubeconfig $kc)"
  locked_build
  webhook_cert
  source_tree   # the CRDs come from the same module download
  PAUSE_IMG=$($K get nodes -o jsonpath='{.items[0].status.images[*].names[*]}' | tr ' ' '\n' | grep -m1 '/pause:' || true)
  PAUSE_IMG=${PAUSE_IMG:-registry.k8s.io/pause:3.10.1}
  KEY=$( { echo "$CHAOSMESH_VERSION"; docker image inspect -f '{{.Id}}' "$CTRL_IMG" "$DAEMON_IMG"; md5sum <"$0"; md5sum <"$HERE/chaosmesh/chaos-mesh.yaml"; md5sum <"$SRC/manifests/crd.yaml"; } | md5sum | cut -c1-12)
  if [ "$($K -n $NS get deploy chaos-controller-manager -o jsonpath='{.metadata.annotations.netchaos\.io/install-key}' 2>/dev/null)" = "$KEY" ] &&
     $K -n $NS rollout status deploy/chaos-controller-manager --timeout=5s >/dev/null 2>&1 &&
     $K -n $NS rollout status ds/chaos-daemon --timeout=5s >/dev/null 2>&1; then
    log chaos-mesh "Chaos Mesh $TAG installed and up to date"; return
  fi
  log chaos-mesh "loading images into kind cluster $name"
  "$KIND" load docker-image --name "$name" "$CTRL_IMG" "$DAEMON_IMG" >"$OUT/chaosmesh/kind-load.log" 2>&1 ||
    { cat "$OUT/chaosmesh/kind-load.log" >&2; die "kind load failed"; }
  $K apply --server-side --force-conflicts -f "$SRC/manifests/crd.yaml" >/dev/null || die "applying Chaos Mesh CRDs failed"
  $K wait --for=condition=Established --timeout=60s crd/networkchaos.chaos-mesh.org crd/podchaos.chaos-mesh.org >/dev/null
  manifest | $K apply -f - >/dev/null || die "applying the Chaos Mesh deployment failed"
  $K -n $NS rollout status deploy/chaos-controller-manager --timeout=180s >/dev/null ||
    { $K -n $NS logs deploy/chaos-controller-manager --tail=20 >&2 || true; die "chaos-controller-manager not ready"; }
  $K -n $NS rollout status ds/chaos-daemon --timeout=180s >/dev/null ||
    { $K -n $NS logs ds/chaos-daemon --tail=20 >&2 || true; die "chaos-daemon not ready"; }
  log chaos-mesh "Chaos Mesh $TAG (controller-manager + chaos-daemon on $($K -n $NS get ds chaos-daemon -o jsonpath='{.status.numberReady}') nodes) in namespace $NS, $(( $(date +%s) - t0 )) s"
}

uninstall_mesh() { # uninstall_mesh CLUSTER KUBECONFIG: faults first, while the controller can still recover them
  local K="$KUBECTL --kubeconfig $2 --context kind-$1" r
  for r in $($K get crd -o name 2>/dev/null | grep '\.chaos-mesh\.org$' | sed 's#.*/##'); do
    $K delete "$r" --all -A --timeout=120s >/dev/null 2>&1 || true
  done
  local crds; crds=$($K get crd -o name | grep '\.chaos-mesh\.org$' || true)
  [ -z "$crds" ] || $K delete $crds --timeout=120s >/dev/null
  $K delete ns $NS --ignore-not-found --timeout=120s >/dev/null
  $K delete clusterrole,clusterrolebinding -l netchaos.io/install=chaos-mesh --ignore-not-found >/dev/null
  log chaos-mesh "Chaos Mesh removed"
}

mkdir -p "$OUT/chaosmesh"
case ${1:-} in
  build) locked_build ;;
  install) install_mesh "${2:?cluster name}" "${3:?kubeconfig}" ;;
  uninstall) uninstall_mesh "${2:?cluster name}" "${3:?kubeconfig}" ;;
  manifest) webhook_cert; KEY=example PAUSE_IMG=registry.k8s.io/pause:3.10.1 manifest ;;   # what install applies besides the CRDs
  *) die "usage: chaosmesh.sh build | install <cluster> <kubeconfig> | uninstall <cluster> <kubeconfig> | manifest" ;;
esac
