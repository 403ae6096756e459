# Shared helpers for the tools/cluster scripts (sourced, not executed).
set -euo pipefail
: "${OUT:?OUT must be set}"
: "${CLUSTER_T0:=$(date +%s)}"
export GOTOOLCHAIN=local CLUSTER_T0
BIN=$OUT/bin
mkdir -p "$BIN"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

# log STAGE MSG: "[stage mm:ss] msg", elapsed since the make invocation started.
log() {
  local s=$(( $(date +%s) - CLUSTER_T0 ))
  printf '[%s %02d:%02d] %s\n' "$1" $((s / 60)) $((s % 60)) "${*:2}"
}
die() { echo "error: $*" >&2; exit 1; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# Debian mirror configured on this host (apt is reachable, registries are not).
mirror() {
  local m
  m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}

ensure_pkgs() { # ensure_pkgs cmd:package ...
  local missing=() p
  for p in "$@"; do command -v "${p%%:*}" >/dev/null 2>&1 || missing+=("${p#*:}"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  # Parallel build steps may install at the same time: wait for dpkg's lock
  # instead of failing on it.
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends)
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "${missing[@]}" >/dev/null; } ||
    die "apt-get install ${missing[*]} failed"
}

gomodcache() { go env GOMODCACHE; }

debootstrap_to() { # debootstrap_to DIR PKGS: a minimal bookworm root with PKGS, without docs and caches
  ensure_pkgs debootstrap:debootstrap
  rm -rf "$1"; mkdir -p "$1"
  debootstrap --variant=minbase --include="$2" bookworm "$1" "$(mirror)" >"$1.log" 2>&1 ||
    { tail -5 "$1.log" >&2; die "debootstrap failed (log: $1.log)"; }
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb \
    "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/locale/* "$1"/var/log/*
}

# tools_base: prints the tag of the Debian root with the node tools (TOOLS_DEBS, versions.sh)
# that the kube-proxy, probe agent and chaos-daemon images are built on, building it once
# (under a lock: make test builds the three beside one another).
tools_base_tag() { echo "netchaos/tools-base:bookworm-$(echo "$TOOLS_DEBS" | md5sum | cut -c1-10)"; }
tools_base() {
  local tag R; tag=$(tools_base_tag)
  ( flock 9
    have_image "$tag" && exit 0
    R=$OUT/rootfs/tools
    log images "debootstrap tools base ($TOOLS_DEBS)" >&2
    debootstrap_to "$R" "$TOOLS_DEBS"
    tar -C "$R" --numeric-owner -c . | docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$tag" >/dev/null
    rm -rf "$R"
    log images "tools base $tag built" >&2
  ) 9>"$OUT/tools-base.lock" || die "building the tools base image failed"
  echo "$tag"
}

# fetching LOG CMD...: CMD (a go command) with its output in LOG, run again, three tries in all,
# when it failed on a module download. The module proxy here now and then refuses a request that
# it serves on the next try (2026-12-05: k8s.io/kube-controller-manager v0.31.14 refused in one
# cold run and served in the next, k8s.io/cluster-bootstrap the other way round; the first run's
# kube-proxy v1.31.14 build stopped on a refused zip), so one refusal is not yet "not served".
fetching() {
  local log=$1 i; shift
  for i in 1 2 3; do
    "$@" >"$log" 2>&1 && return 0
    [ $i -lt 3 ] && grep -qE 'reading https?://|dial tcp|TLS handshake|unexpected EOF|i/o timeout' "$log" || return 1
    sleep $((2 * i))
  done
}

# moddir MODULE@VERSION: the module's directory in the module cache, downloaded if need be
# (empty when the proxy does not serve it).
moddir() {
  local l; l=$(mktemp "$OUT/moddir.XXXX")
  (cd "$OUT" && fetching "$l" env GOFLAGS=-mod=mod go mod download -json "$1") && sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' "$l"
  rm -f "$l"
}

# mkstatic REF ENTRYPOINT-JSON|'' [--change ...] -- SRC:DEST ...
# Single-layer image from static binaries (docker import, no registry, no builder).
mkstatic() {
  local ref=$1 ep=$2; shift 2
  local changes=(--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin')
  [ -n "$ep" ] && changes+=(--change "ENTRYPOINT $ep")
  while [ "$1" != "--" ]; do changes+=(--change "$1"); shift; done; shift
  local d; d=$(mktemp -d "$OUT/img.XXXX")
  mkdir -p "$d/etc" "$d/tmp" "$d/usr/local/bin"; chmod 1777 "$d/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
  echo 'hosts: files dns' >"$d/etc/nsswitch.conf"
  local p; for p in "$@"; do install -D -m0755 "${p%%:*}" "$d/${p#*:}"; done
  tar -C "$d" --numeric-owner --owner=0 --group=0 -c . | docker import "${changes[@]}" - "$ref" >/dev/null
  rm -rf "$d"
}
