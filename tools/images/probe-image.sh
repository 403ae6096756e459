#!/usr/bin/env bash
# Builds the probe agent image every experiment deploys: the static netchaos
# binary on a minimal Debian root carrying the node tools the agent runs
# (conntrack, iptables, nft, ip, nsenter, sh). Offline: Debian packages only.
# The root filesystem is cached by its package list; only the binary layer is
# rebuilt when the code changes. PROBE_BASE names an existing image with those
# tools to build on instead (the kind lab's tools base, tools/cluster/lib.sh).
#   usage: [PROBE_BASE=image] probe-image.sh <image-tag> <netchaos-binary> <cache-dir>
set -euo pipefail
tag=$1 bin=$2 cache=$3
pkgs=iptables,nftables,conntrack,iproute2,procps
base=${PROBE_BASE:-netchaos/probe-base:bookworm-$(echo "$pkgs" | md5sum | cut -c1-8)}
log() { printf '[probe-image %s] %s\n' "$(date +%T)" "$*"; }

if ! docker image inspect "$base" >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    apt-get install -y -q debootstrap >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q debootstrap >/dev/null; }
  }
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  root=$(mktemp -d "$cache/probe-rootfs.XXXX")
  trap 'rm -rf "$root"' EXIT
  log "debootstrap bookworm ($pkgs)"
  debootstrap --variant=minbase --include="$pkgs" bookworm "$root" "$mirror" >"$cache/probe-debootstrap.log" 2>&1 \
    || { echo "probe-image: debootstrap failed, see $cache/probe-debootstrap.log" >&2; exit 1; }
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
  tar -C "$root" --numeric-owner -c . | docker import - "$base" >/dev/null
  log "base image $base"
fi

ctx=$(mktemp -d "$cache/probe-ctx.XXXX")
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/netchaos"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $base
COPY netchaos /netchaos
ENTRYPOINT ["/netchaos"]
DOCKERFILE
DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null
log "built $tag"
