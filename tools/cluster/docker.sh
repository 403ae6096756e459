#!/usr/bin/env bash
# Makes a Docker engine available: nothing to do when `docker info` works;
# otherwise installs Debian's docker.io and starts dockerd. When the host's
# capability bounding set lacks CAP_SYS_RESOURCE, privileged containers cannot
# start, so the runc wrapper (tools/runcwrap) becomes dockerd's default runtime.
source "$(dirname "$0")/lib.sh"

needs_wrapper() { # CAP_SYS_RESOURCE is bit 24 of CapBnd
  local bnd; bnd=$(awk '/^CapBnd:/{print $2}' /proc/self/status)
  (( (16#$bnd >> 24 & 1) == 0 ))
}
WRAP=/usr/local/bin/runcwrap

if needs_wrapper && [ ! -x $WRAP ] || [ "${REBUILD_WRAPPER:-}" = 1 ]; then
  log docker "CAP_SYS_RESOURCE not in the bounding set: installing the runc wrapper $WRAP"
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o "$BIN/runcwrap" ./tools/runcwrap) || die "building tools/runcwrap failed"
  install -m0755 "$BIN/runcwrap" $WRAP
fi

if docker info >/dev/null 2>&1; then
  if needs_wrapper && [ "$(docker info -f '{{.DefaultRuntime}}')" = runc ]; then
    log docker "warning: running engine uses plain runc; privileged containers may fail (see /etc/docker/daemon.json)"
  fi
  log docker "engine running ($(docker version -f '{{.Server.Version}}'))"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "docker is not running and starting it needs root"
if ! command -v dockerd >/dev/null; then
  log docker "installing docker.io (Debian)"
  ensure_pkgs dockerd:docker.io
fi
if needs_wrapper && [ ! -s /etc/docker/daemon.json ]; then
  mkdir -p /etc/docker
  cat >/etc/docker/daemon.json <<JSON
{
  "runtimes": { "wrap": { "path": "$WRAP" } },
  "default-runtime": "wrap"
}
JSON
fi
log docker "starting dockerd (log: $OUT/dockerd.log)"
nohup dockerd >"$OUT/dockerd.log" 2>&1 </dev/null &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && break
  sleep 0.5
done
docker info >/dev/null 2>&1 || die "docker engine did not start (see $OUT/dockerd.log)"
log docker "engine started ($(docker version -f '{{.Server.Version}}'), default runtime $(docker info -f '{{.DefaultRuntime}}'))"
