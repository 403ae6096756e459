#!/usr/bin/env bash
# Builds the project's probe image from ./tools/netchaos (static binary,
# CGO_ENABLED=0). When tools/images/probe-image.sh exists (the probe image with
# the node tools the agent runs) it is used; otherwise a scratch-like image with
# ENTRYPOINT /netchaos.
#   usage: probe-image.sh <tag>
source "$(dirname "$0")/lib.sh"
TAG=$1
mkdir -p "$OUT/probe"
(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$OUT/probe/netchaos" ./tools/netchaos) ||
  die "go build ./tools/netchaos failed"
sum=$( (md5sum <"$OUT/probe/netchaos"; cat "$ROOT"/tools/images/probe-image.sh 2>/dev/null) | md5sum | cut -c1-12)
if [ "$(docker image inspect -f '{{index .Config.Labels "netchaos.sum"}}' "$TAG" 2>/dev/null)" = "$sum" ]; then
  log probe-image "$TAG up to date"; exit 0
fi
if [ -x "$ROOT/tools/images/probe-image.sh" ]; then
  "$ROOT/tools/images/probe-image.sh" "$TAG" "$OUT/probe/netchaos" "$OUT/probe" >"$OUT/probe/build.log" 2>&1 ||
    { cat "$OUT/probe/build.log" >&2; die "tools/images/probe-image.sh failed"; }
  printf 'FROM %s\nLABEL netchaos.sum=%s\n' "$TAG" "$sum" | DOCKER_BUILDKIT=0 docker build -q -t "$TAG" - >>"$OUT/probe/build.log" 2>&1 ||
    { cat "$OUT/probe/build.log" >&2; die "labelling $TAG failed"; }
else
  mkstatic "$TAG" '["/netchaos"]' "LABEL netchaos.sum=$sum" -- "$OUT/probe/netchaos:netchaos"
fi
log probe-image "built $TAG"
