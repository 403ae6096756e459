#!/usr/bin/env bash
# make test on 2 cores. The critical path is the cluster's images, then the
# suite, which waits on the network far more than it computes. The suite runs
# on two kind clusters at once: part A (the controls, T3, T4) on $CLUSTER_NAME,
# part B (the rest, then the Chaos Mesh specs once Chaos Mesh is built and
# installed there) on $CLUSTER_NAME-b, whose creation overlaps part A's start;
# part B's report goes to $REPORT_DIR/cluster-b, its Chaos Mesh specs' to
# $REPORT_DIR/chaosmesh. Everything else runs beside the critical path: the
# unit tests, vet and the IPVS model at nice 19; what the suites need later
# (Chaos Mesh's build, kube-proxy of the older release, the lab's builds) at
# nice 19 while the images compile (a cold run showed them taking a third of
# the CPU there at nice 10: 26 of 73 CPU-minutes), then at nice 10 once the
# cluster is up, when the suites leave most of the CPU idle; a lab profile
# switch or the Chaos Mesh install waits for its build under that build's
# lock. The precision test measures timing, so it runs alone, last.
#   usage (from the Makefile): test.sh; needs OUT, REPORT_DIR, K8S_VERSION, CLUSTER_NAME, KUBECONFIG_FILE
source "$(dirname "$0")/lib.sh"
source "$HERE/versions.sh"
: "${REPORT_DIR:?}" "${K8S_VERSION:?}" "${CLUSTER_NAME:?}" "${KUBECONFIG_FILE:?}"
M="${MAKE:-make} --no-print-directory -C $ROOT"
L=$OUT/test
mkdir -p "$L"
declare -A job=()

TIMEFORMAT="%0R s wall, %0U s user + %0S s sys CPU"   # bash's time: a step's CPU, its children's included

bg() { # bg NICE NAME CMD...: CMD (a command or a function) at NICE beside the critical path, output in $L/NAME.log
  log test "$2: started beside the critical path at nice $1 (log: $L/$2.log)"
  ( { time ( renice -n "$1" -p $BASHPID >/dev/null; "${@:3}" ) >"$L/$2.log" 2>&1; } 2>"$L/$2.time" ) &
  job[$2]=$!
}
finish() { # finish NAME: wait for it; the end of its log when it failed
  local t0=$SECONDS
  if wait "${job[$1]}"; then log test "$1: passed (waited $((SECONDS - t0)) s for it; it took $(cat "$L/$1.time"))"; return 0; fi
  log test "$1: FAILED; the end of $L/$1.log:"
  tail -40 "$L/$1.log"
  return 1
}
step() { # step NAME CMD...: a step on the critical path, timed like the jobs beside it
  local r=0
  { time "${@:2}" 2>&3; } 3>&2 2>"$L/$1.time" || r=$?
  log test "$1: $([ $r = 0 ] && echo passed || echo FAILED), $(tail -1 "$L/$1.time")"
  return $r
}

renice_job() { # renice_job NICE NAME...: a job started by bg, with every process it has started so far
  local n=$1 j p pids; shift
  for j in "$@"; do
    kill -0 "${job[$j]}" 2>/dev/null || continue   # done already
    pids=${job[$j]}; p=$pids
    while [ -n "$p" ]; do p=$(pgrep -d' ' -P "${p// /,}" || true); pids="$pids $p"; done
    renice -n "$n" -p $pids >/dev/null 2>&1 || true
    log test "$j: now at nice $n"
  done
}

# the suite's two parts: A on $CLUSTER_NAME, B on $CLUSTER_NAME-b (then the Chaos Mesh specs there)
PART_A='controls || t3 || t4'
PART_B='!(controls || t3 || t4 || chaosmesh)'
B=$CLUSTER_NAME-b KB=$OUT/kubeconfig-b
part_b() { # cluster B, part B of the suite, then Chaos Mesh (waiting for its build) and its specs
  local on_b=(CLUSTER_NAME="$B" KUBECONFIG_FILE="$KB")
  step cluster-b $M cluster "${on_b[@]}" || return 1
  local r=0
  step suite-b $M e2e-suite "${on_b[@]}" E2E_LABELS="$PART_B" REPORT_DIR="$REPORT_DIR/cluster-b" || r=1
  { step chaos-mesh-install "$HERE/chaosmesh.sh" install "$B" "$KB" &&
    step suite-chaosmesh $M e2e-suite "${on_b[@]}" E2E_LABELS=chaosmesh REPORT_DIR="$REPORT_DIR/chaosmesh"; } || r=1
  return $r
}

# Steps that install host packages run first: nothing beside them yet.
step host $M hostdeps docker
bg 19 checks $M unit ipvs-model
bg 19 chaos-mesh-build "$HERE/chaosmesh.sh" build
# T3's VPC CNI plugins (cni.sh puts them on the workers): make cluster's own vpccni.sh build
# waits for this one under its lock and finds it done
bg 10 vpccni-build "$HERE/vpccni.sh" build
# the lab's one long build needs no cluster: kube-proxy of the older release,
# under the lock lab.sh takes for it
bg 19 lab-old-proxy flock "$OUT/lab-old.lock" "$HERE/build-k8s.sh" "$OLD_PROXY_VERSION" kube-proxy
step cluster $M cluster
renice_job 10 chaos-mesh-build lab-old-proxy
bg 10 lab-build "$HERE/lab.sh" build "$K8S_VERSION"
bg 0 part-b part_b
rc=0
step suite $M e2e-suite E2E_LABELS="$PART_A" || rc=1
log test "part A done; waiting for part B on cluster $B (log: $L/part-b.log)"
finish part-b || rc=1
log test "part B's output (cluster $B):"
cat "$L/part-b.log"
finish chaos-mesh-build || rc=1
finish vpccni-build || rc=1
finish lab-old-proxy || rc=1
finish lab-build || rc=1
finish checks || rc=1
$M cluster-down
$M cluster-down CLUSTER_NAME="$B" KUBECONFIG_FILE="$KB"
step precision $M precision || rc=1
log test "make test: $([ $rc = 0 ] && echo passed || echo FAILED)"
exit $rc
