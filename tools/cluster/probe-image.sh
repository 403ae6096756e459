#!/usr/bin/env bash
# Builds the project's probe image: ./tools/netchaos (static binary,
# CGO_ENABLED=0) in the image tools/images/probe-image.sh assembles with the
# node tools the agent runs.
#   usage: probe-image.sh <tag>
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.sh"
TAG=$1
export PROBE_BASE; PROBE_BASE=$(tools_base)   # the kube-proxy image's Debian root: one debootstrap for both
mkdir -p "$OUT/probe"
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$OUT/probe/netchaos" ./tools/netchaos) ||
  die "go build ./tools/netchaos failed"
sum=$( (md5sum <"$OUT/probe/netchaos"; cat "$ROOT"/tools/images/probe-image.sh; echo "$PROBE_BASE") | md5sum | cut -c1-12)
if [ "$(docker image inspect -f '{{index .Config.Labels "netchaos.sum"}}' "$TAG" 2>/dev/null)" = "$sum" ]; then
  log probe-image "$TAG up to date"; exit 0
fi
"$ROOT/tools/images/probe-image.sh" "$TAG" "$OUT/probe/netchaos" "$OUT/probe" >"$OUT/probe/build.log" 2>&1 ||
  { cat "$OUT/probe/build.log" >&2; die "tools/images/probe-image.sh failed"; }
printf 'FROM %s\nLABEL netchaos.sum=%s\n' "$TAG" "$sum" | DOCKER_BUILDKIT=0 docker build -q -t "$TAG" - >>"$OUT/probe/build.log" 2>&1 ||
  { cat "$OUT/probe/build.log" >&2; die "labelling $TAG failed"; }
log probe-image "built $TAG"
