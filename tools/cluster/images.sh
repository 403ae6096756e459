#!/usr/bin/env bash
# Builds every image the cluster needs, offline, from Debian packages and Go
# modules; each step is skipped when its image already exists (keyed by version).
#   images.sh all <k8s-version>   component images + node image netchaos/kind-node:<version>
#   images.sh base | tools-base | metallb | busybox
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.sh"

KIND_FILES=$(gomodcache)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files
BASE_REV=1   # bump when build_base changes
BASE_TAG=netchaos/kind-base:bookworm-$(echo "$BASE_REV $NODE_DEBS $KIND_VERSION $(md5sum <"$ROOT/tools/runcwrap/main.go")" | md5sum | cut -c1-10)
# images preloaded into every node besides kubeadm's (loading them per cluster costs time)
EXTRA_IMAGES="quay.io/metallb/controller:$METALLB_VERSION quay.io/metallb/speaker:$METALLB_VERSION netchaos/busybox:1.35"
PROXY_BASE_TAG=$(tools_base_tag)

build_base() { # node base: bookworm + systemd + Debian containerd/runc/CNI plugins + kind's base files
  have_image "$BASE_TAG" && { log images "node base $BASE_TAG cached"; return; }
  [ -d "$KIND_FILES" ] || (cd "$ROOT" && go mod download sigs.k8s.io/kind@$KIND_VERSION)
  [ -x "$BIN/runcwrap" ] || (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$BIN/runcwrap" ./tools/runcwrap)
  local R=$OUT/rootfs/node
  log images "debootstrap node base (bookworm, systemd, containerd, runc, CNI plugins)"
  debootstrap_to "$R" "$NODE_DEBS"
  cp -r --no-preserve=mode "$KIND_FILES"/. "$R"/
  chmod 0755 "$R"/usr/local/bin/* "$R"/kind/bin/* "$R"/kind/bin
  find "$R"/lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
  rm -f "$R"/lib/systemd/system/multi-user.target.wants/* "$R"/etc/systemd/system/*.wants/* \
    "$R"/lib/systemd/system/local-fs.target.wants/* "$R"/lib/systemd/system/sockets.target.wants/*udev* \
    "$R"/lib/systemd/system/sockets.target.wants/*initctl* "$R"/lib/systemd/system/basic.target.wants/*
  echo 'ReadKMsg=no' >>"$R"/etc/systemd/journald.conf
  ln -sf /lib/systemd/systemd "$R"/sbin/init
  chroot "$R" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  chroot "$R" systemctl mask systemd-binfmt.service >/dev/null 2>&1
  mkdir -p "$R"/etc/kubernetes/manifests "$R"/opt/cni/bin "$R"/kind/manifests
  # Debian's containerd lives in /usr/bin; kind's unit and tools expect /usr/local/bin.
  for b in containerd ctr containerd-shim-runc-v2; do ln -sf /usr/bin/$b "$R"/usr/local/bin/$b; done
  for p in ptp bridge host-local loopback portmap; do ln -sf /usr/lib/cni/$p "$R"/opt/cni/bin/$p; done
  # containerd runs every container through the capability-stripping wrapper
  # (a no-op where CAP_SYS_RESOURCE is in the bounding set).
  install -m0755 "$BIN/runcwrap" "$R"/usr/local/bin/runcwrap
  sed -i -e 's#^\(\s*\)SystemdCgroup = true#&\n\1BinaryName = "/usr/local/bin/runcwrap"#' \
    -e 's#restrict_oom_score_adj = false#restrict_oom_score_adj = true#' "$R"/etc/containerd/config.toml
  chroot "$R" ctr oci spec | chroot "$R" jq \
    '.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"} | del(.process.rlimits)' \
    >"$R"/etc/containerd/cri-base.json
  tar -C "$R" --numeric-owner -c . | docker import --change 'ENV container=docker' \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' - "$BASE_TAG" >/dev/null
  rm -rf "$R"
  log images "node base $BASE_TAG built"
}

build_busybox() { # a small image that can serve traffic in checks (busybox nc/httpd/ping)
  have_image netchaos/busybox:1.35 && return
  ensure_pkgs busybox:busybox-static
  local d a; d=$(mktemp -d "$OUT/img.XXXX")
  mkdir -p "$d/bin" "$d/tmp" "$d/etc"; chmod 1777 "$d/tmp"
  install -m0755 /bin/busybox "$d/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$d/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$d/etc/passwd"
  tar -C "$d" --numeric-owner --owner=0 --group=0 -c . | docker import --change 'ENV PATH=/bin' \
    --change 'CMD ["sh"]' - netchaos/busybox:1.35 >/dev/null
  rm -rf "$d"
  log images "built netchaos/busybox:1.35"
}

go_tool() { # go_tool NAME MODULE@VERSION PACKAGE|DIR-WITH-main.go: static binary $BIN/NAME via a wrapper module
  local name=$1 modver=$2 pkg=$3 d=$OUT/gobuild/$1 key
  key=$modver; [ -d "$pkg" ] && key="$key $(md5sum <"$pkg/main.go")"
  [ -x "$BIN/$name" ] && [ "$(cat "$BIN/$name.version" 2>/dev/null)" = "$key" ] && return
  log images "go build $name ($modver)"
  rm -rf "$d"; mkdir -p "$d"
  printf 'module local/%sbuild\n\ngo 1.26\n\nrequire %s %s\n' "$name" "${modver%@*}" "${modver#*@}" >"$d/go.mod"
  if [ -d "$pkg" ]; then cp "$pkg/main.go" "$d/"; pkg=.; fi
  (cd "$d" && fetching "$d/build.log" env GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/$name" "$pkg") ||
    { tail -20 "$d/build.log" >&2; die "building $name failed (log: $d/build.log)"; }
  echo "$key" >"$BIN/$name.version"
}

build_components() { # build_components VERSION: every image kubeadm lists, tagged as it expects
  local V=$1 KB=$OUT/k8s/$1/bin ref
  local images; images=$("$KB/kubeadm" config images list --kubernetes-version "$V" 2>/dev/null) ||
    die "kubeadm config images list failed for $V"
  for ref in $images; do
    case $ref in
      */kube-proxy:*)
        tools_base >/dev/null
        local d; d=$(mktemp -d "$OUT/img.XXXX")
        fresh "$ref" "$PROXY_BASE_TAG" "$KB/kube-proxy" && { rm -rf "$d"; continue; }
        install -D -m0755 "$KB/kube-proxy" "$d/usr/local/bin/kube-proxy"
        printf 'FROM %s\nLABEL netchaos.src=%s\nCOPY usr /usr\n' "$PROXY_BASE_TAG" "$(srcsum "$PROXY_BASE_TAG" "$KB/kube-proxy")" >"$d/Dockerfile"
        DOCKER_BUILDKIT=0 docker build -q -t "$ref" "$d" >"$OUT/kube-proxy-build.log" 2>&1 ||
          { cat "$OUT/kube-proxy-build.log" >&2; die "kube-proxy image build failed"; }
        rm -rf "$d" ;;
      */kube-apiserver:*|*/kube-controller-manager:*|*/kube-scheduler:*)
        local c=${ref##*/}; c=${c%%:*}
        fresh "$ref" "$KB/$c" && continue
        mkstatic "$ref" '' "LABEL netchaos.src=$(srcsum "$KB/$c")" -- "$KB/$c:usr/local/bin/$c" ;;
      */etcd:*)   # the release's own etcd (build-k8s.sh), else one built on its own
        local e=$KB/etcd
        [ -x "$e" ] || { go_tool etcd go.etcd.io/etcd/server/v3@$ETCD_MODULE_VERSION go.etcd.io/etcd/server/v3; e=$BIN/etcd; }
        fresh "$ref" "$e" && continue
        mkstatic "$ref" '' "LABEL netchaos.src=$(srcsum "$e")" "LABEL netchaos.etcd=$("$e" --version | awk '/^etcd Version/{print $3}')" -- "$e:usr/local/bin/etcd" ;;
      */coredns:*)
        go_tool coredns github.com/coredns/coredns@$COREDNS_VERSION "$HERE/coredns"
        fresh "$ref" "$BIN/coredns" && continue
        mkstatic "$ref" '["/coredns"]' "LABEL netchaos.src=$(srcsum "$BIN/coredns")" -- "$BIN/coredns:coredns" ;;
      */pause:*)
        build_pause
        fresh "$ref" "$BIN/pause" && continue
        mkstatic "$ref" '["/pause"]' 'USER 65535:65535' "LABEL netchaos.src=$(srcsum "$BIN/pause")" -- "$BIN/pause:pause" ;;
      *) die "no recipe for image $ref" ;;
    esac
    log images "built $ref"
  done
}

srcsum() { # srcsum FILE|IMAGE...: content key of an image's inputs
  local a; for a in "$@"; do if [ -f "$a" ]; then md5sum <"$a"; else echo "$a"; fi; done | md5sum | cut -c1-12
}
fresh() { # fresh REF INPUT...: the image exists and was built from these inputs
  [ "$(docker image inspect -f '{{index .Config.Labels "netchaos.src"}}' "$1" 2>/dev/null)" = "$(srcsum "${@:2}")" ]
}

build_pause() { # the tiny static C program from the Kubernetes module (build/pause/linux/pause.c)
  [ -x "$BIN/pause" ] && return
  ensure_pkgs gcc:gcc
  local src; src=$(ls "$(gomodcache)"/k8s.io/kubernetes@*/build/pause/linux/pause.c | tail -1)
  gcc -Os -Wall -static -DVERSION=v3.10.1 -o "$BIN/pause" "$src" || die "building pause failed"
}

build_node() { # build_node VERSION -> netchaos/kind-node:VERSION
  local V=$1 NODE=netchaos/kind-node:$1 KB=$OUT/k8s/$1/bin
  local images pause key
  images="$("$KB/kubeadm" config images list --kubernetes-version "$V") $EXTRA_IMAGES"
  pause=$(echo "$images" | grep /pause:)
  key=$( { echo "$BASE_TAG"; docker image inspect -f '{{.Id}}' $images 2>/dev/null; } | md5sum | cut -c1-10)
  [ "$(docker image inspect -f '{{index .Config.Labels "netchaos.key"}}' "$NODE" 2>/dev/null)" = "$key" ] &&
    { log images "node image $NODE cached"; return; }
  build_base
  log images "assembling $NODE"
  local cid; cid=$(docker run -d --entrypoint=sleep --security-opt seccomp=unconfined "$BASE_TAG" infinity)
  trap "docker rm -f -v $cid >/dev/null 2>&1 || true" EXIT
  for b in kubeadm kubelet kubectl; do docker cp "$KB/$b" "$cid:/usr/bin/$b"; done
  docker exec "$cid" sh -c "chown root:root /usr/bin/kube* && chmod 0755 /usr/bin/kube* && printf %s $V >/kind/version &&
    sed -i 's#sandbox_image = .*#sandbox_image = \"$pause\"#' /etc/containerd/config.toml"
  docker exec -d "$cid" containerd
  docker exec "$cid" sh -c 'for i in $(seq 1 60); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.5; done; exit 1' ||
    die "containerd did not start in the node build container"
  # shellcheck disable=SC2086
  docker save $images | docker exec -i "$cid" ctr --namespace=k8s.io images import \
    --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests - >/dev/null ||
    die "importing images into the node failed"
  docker exec "$cid" sh -c 'pkill -x containerd; while pgrep -x containerd >/dev/null; do sleep 0.2; done; rm -rf /run/containerd /tmp/*'
  docker commit --change "LABEL netchaos.key=$key" --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' "$cid" "$NODE" >/dev/null
  docker rm -f -v "$cid" >/dev/null; trap - EXIT
  log images "node image $NODE built"
}

build_metallb() { # controller + speaker from go.universe.tf/metallb, static, docker-imported
  local c=quay.io/metallb/controller:$METALLB_VERSION s=quay.io/metallb/speaker:$METALLB_VERSION
  have_image "$c" && have_image "$s" && return
  go_tool metallb-controller go.universe.tf/metallb@$METALLB_VERSION go.universe.tf/metallb/controller
  go_tool metallb-speaker go.universe.tf/metallb@$METALLB_VERSION go.universe.tf/metallb/speaker
  mkstatic "$c" '["/controller"]' 'USER 65534:65534' -- "$BIN/metallb-controller:controller"
  mkstatic "$s" '["/speaker"]' -- "$BIN/metallb-speaker:speaker"
  log images "built MetalLB $METALLB_VERSION images"
}

case ${1:-} in
  all)
    V=${2:?version}
    [ -x "$OUT/k8s/$V/bin/kubeadm" ] || [ -n "$(moddir "k8s.io/kubernetes@$V")" ] ||
      die "unknown K8S_VERSION $V: the Go module proxy does not serve k8s.io/kubernetes@$V (try: go list -m -versions k8s.io/kubernetes)"
    # Debian root filesystems download while Go compiles (2 cores: overlap IO with CPU).
    bg=()
    if ! have_image "netchaos/kind-node:$V"; then
      ensure_pkgs debootstrap:debootstrap   # once, before the two debootstraps fork
      ! have_image "$BASE_TAG" && { build_base & bg+=($!); }
      ! have_image "$PROXY_BASE_TAG" && { tools_base >/dev/null & bg+=($!); }
    fi
    # Kubernetes and the other Go programs compile side by side: one go build
    # alone leaves a core idle during downloads and links.
    "$HERE/build-k8s.sh" "$V" & k8s=$!
    go_tool coredns github.com/coredns/coredns@$COREDNS_VERSION "$HERE/coredns"
    go_tool metallb-controller go.universe.tf/metallb@$METALLB_VERSION go.universe.tf/metallb/controller
    go_tool metallb-speaker go.universe.tf/metallb@$METALLB_VERSION go.universe.tf/metallb/speaker
    [ -x "$BIN/kind" ] || { log images "go build kind"; (cd "$ROOT" && go build -o "$BIN/kind" sigs.k8s.io/kind) || die "building kind failed"; }
    wait "$k8s" || exit 1   # build-k8s.sh said why
    for p in "${bg[@]}"; do wait "$p" || die "building a base image failed"; done
    build_components "$V"
    build_metallb
    build_busybox
    build_node "$V" ;;
  base) build_base ;;
  tools-base) tools_base ;;
  metallb) build_metallb ;;
  busybox) build_busybox ;;
  *) die "usage: images.sh all <version> | base | tools-base | metallb | busybox" ;;
esac
