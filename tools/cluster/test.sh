#!/usr/bin/env bash
# make test on 2 cores. The critical path is the cluster's images, then the
# suite, which waits on the network far more than it computes. Everything the
# suite does not need to start (kube-proxy of the older release, Chaos Mesh's
# build, the lab profiles' builds, unit tests and vet, the IPVS model) runs at
# SCHED_IDLE: it gets only CPU the critical path leaves idle, so it can no
# longer lengthen it (at nice 10 those builds took part of the CPU all through
# the images: a cold Ready cluster at 46 min; at SCHED_IDLE 32.5, the whole
# cold run 79.7 min instead of 83, the suite then waiting 5 min for them). They run one
# after another in the order the suite needs them, and the suite runs in three
# parts so that it asks for them as late as it can: the specs that need no lab
# build, then the positive controls (their profile switches wait for a build
# still under way, under its lock), then Chaos Mesh's specs once it is built and
# installed. The e2e binary compiles beside kind's cluster creation. The
# precision test measures timing, so it runs alone: last. With transparent huge
# pages (below) the cold run took 64.7 min (2026-12-05, 3595e3c); 55.2 at bf26c86 (fewer CPU-minutes:
# etcd in the Kubernetes build, one Debian tools base, Chaos Mesh without RemoteCluster; and nothing
# beside the suite kept it waiting at the end); still CPU-bound.
# Tried and dropped (2026-12-05): the suite over two kind clusters at once (each
# spec 1.4-1.7x slower, load average 46, a fixed twin degraded while the second
# cluster was created); the probe image and the e2e compile beside the images
# (no idle CPU there: vmstat 69% user, 30% system; they were starved, then
# delayed the cluster).
#   usage (from the Makefile): test.sh; needs OUT, REPORT_DIR, K8S_VERSION, CLUSTER_NAME, KUBECONFIG_FILE
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.sh"
: "${REPORT_DIR:?}" "${K8S_VERSION:?}" "${CLUSTER_NAME:?}" "${KUBECONFIG_FILE:?}"
M="${MAKE:-make} --no-print-directory -C $ROOT"
L=$OUT/test
rm -rf "$L"; mkdir -p "$L"

TIMEFORMAT="%0R s wall, %0U s user + %0S s sys CPU"   # bash's time: a step's CPU, its children's included

job() { # job NAME CMD...: CMD with its output in $L/NAME.log, its time in .time, its exit code in .rc
  local r=0
  { time "${@:2}" >"$L/$1.log" 2>&1; } 2>"$L/$1.time" || r=$?
  echo $r >"$L/$1.rc"
}
declare -A queued=()
beside() { # beside idle|NICE NAME...: announces the jobs started next in the background
  local prio=$1 n; shift
  for n in "$@"; do queued[$n]=1; done
  log test "$*$([ $# -gt 1 ] && echo ', one after another'): started beside the critical path at $([ "$prio" = idle ] && echo SCHED_IDLE || echo "nice $prio") (logs: $L/<name>.log)"
}
finish() { # finish NAME: wait for a job; the end of its log when it failed
  local t0=$SECONDS
  [ -n "${queued[$1]:-}" ] || { log test "$1: not run"; return 1; }
  while [ ! -f "$L/$1.rc" ]; do sleep 2; done
  if [ "$(cat "$L/$1.rc")" = 0 ]; then log test "$1: passed (waited $((SECONDS - t0)) s for it; it took $(cat "$L/$1.time"))"; return 0; fi
  log test "$1: FAILED; the end of $L/$1.log:"
  tail -40 "$L/$1.log"
  return 1
}
idle() { chrt --idle -p 0 "$BASHPID" >/dev/null || log test "chrt --idle failed: the jobs beside run at the default priority"; }   # this subshell and its children: SCHED_IDLE
step() { # step NAME CMD...: a step on the critical path, timed like the jobs beside it
  local r=0
  { time "${@:2}" 2>&3; } 3>&2 2>"$L/$1.time" || r=$?
  log test "$1: $([ $r = 0 ] && echo passed || echo FAILED), $(tail -1 "$L/$1.time")"
  return $r
}

# Transparent huge pages for every process while make test runs, put back as found at the end.
# On this VM (Firecracker, pti=on) page faults are dear, and the Go compiler's heap faults in
# 4-KiB pages under the default "madvise": compiling k8s.io/api/... and client-go's core/v1 from
# an empty cache took 113.5 and 102.8 s wall (163 + 55 and 147 + 51 s user + sys CPU) at madvise,
# 71.2 and 66.6 s (115 + 22 and 107 + 21 s) at "always" (2026-12-05, both orders).
THP=/sys/kernel/mm/transparent_hugepage/enabled
thp_was=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$THP" 2>/dev/null)
if [ "$thp_was" = always ]; then
  log test "transparent huge pages: already always"
elif [ -n "$thp_was" ] && echo always 2>/dev/null >"$THP"; then
  trap 'echo "$thp_was" >"$THP" && log test "transparent huge pages: back to $thp_was"' EXIT
  log test "transparent huge pages: always while make test runs (was $thp_was; Go compiles about a third faster)"
else
  log test "transparent huge pages: left at ${thp_was:-unknown} ($THP not writable): the builds are slower"
fi

# Steps that install host packages run first: nothing beside them yet.
step host $M hostdeps docker
# T3's VPC CNI plugins, which make cluster puts on the workers: critical path, nice 0
beside 0 vpccni-build
job vpccni-build "$HERE/vpccni.sh" build &
beside idle lab-old-proxy chaos-mesh-build checks
( idle
  # kube-proxy of the older release, under the lock lab.sh's profile switch takes for it
  job lab-old-proxy flock "$OUT/lab-old.lock" "$HERE/build-k8s.sh" "$OLD_PROXY_VERSION" kube-proxy
  job chaos-mesh-build "$HERE/chaosmesh.sh" build
  job checks $M unit ipvs-model ) &
rc=0
step images $M images probe-image kindcluster || rc=1
finish vpccni-build || rc=1
if [ $rc = 0 ]; then
  beside 0 e2e-build
  job e2e-build $M e2e-build &
  step cluster $M cluster || rc=1
  finish e2e-build || rc=1
fi
if [ $rc = 0 ]; then
  beside idle lab-build
  ( idle; job lab-build "$HERE/lab.sh" build "$K8S_VERSION" ) &
  E2E="E2E_BIN=$ROOT/e2e/e2e.test"
  step suite $M e2e-suite "$E2E" E2E_LABELS='!chaosmesh && !controls' || rc=1
  step suite-controls $M e2e-suite "$E2E" E2E_LABELS=controls REPORT_DIR="$REPORT_DIR/controls" || rc=1
  cm=1
  if finish chaos-mesh-build; then
    { step chaos-mesh-install "$HERE/chaosmesh.sh" install "$CLUSTER_NAME" "$KUBECONFIG_FILE" &&
      step suite-chaosmesh $M e2e-suite "$E2E" E2E_LABELS=chaosmesh REPORT_DIR="$REPORT_DIR/chaosmesh"; } || rc=1
  else
    rc=1
  fi
fi
[ -n "${cm:-}" ] || { finish chaos-mesh-build || rc=1; }
finish lab-old-proxy || rc=1
[ -n "${queued[lab-build]:-}" ] && { finish lab-build || rc=1; }
finish checks || rc=1
$M cluster-down
step precision $M precision || rc=1
log test "make test: $([ $rc = 0 ] && echo passed || echo FAILED)"
exit $rc
