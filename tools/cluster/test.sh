#!/usr/bin/env bash
# make test within the hour on 2 cores. The critical path is the cluster's
# images, then the suite, which waits on the network far more than it
# computes; everything else (unit tests and vet, the IPVS model, Chaos Mesh's
# build, the lab profiles' builds) runs at nice 19 beside it, on the CPU the
# critical path leaves idle. The precision test measures timing, so it runs
# first, alone. The suite runs in two parts:
# the Chaos Mesh specs last, once Chaos Mesh is built and installed (their
# report in $REPORT_DIR/chaosmesh).
#   usage (from the Makefile): test.sh; needs OUT, REPORT_DIR, K8S_VERSION, CLUSTER_NAME, KUBECONFIG_FILE
source "$(dirname "$0")/lib.sh"
: "${REPORT_DIR:?}" "${K8S_VERSION:?}" "${CLUSTER_NAME:?}" "${KUBECONFIG_FILE:?}"
M="${MAKE:-make} --no-print-directory -C $ROOT"
L=$OUT/test
mkdir -p "$L"
declare -A job=()

bg() { # bg NAME CMD...: CMD at nice 19 beside the critical path, output in $L/NAME.log
  log test "$1: started beside the critical path (log: $L/$1.log)"
  nice -n 19 "${@:2}" >"$L/$1.log" 2>&1 &
  job[$1]=$!
}
finish() { # finish NAME: wait for it; the end of its log when it failed
  local t0=$SECONDS
  if wait "${job[$1]}"; then log test "$1: passed (waited $((SECONDS - t0)) s for it)"; return 0; fi
  log test "$1: FAILED; the end of $L/$1.log:"
  tail -40 "$L/$1.log"
  return 1
}

# Steps that install host packages, and the timing test, run first: nothing beside them yet.
$M precision docker
bg checks $M unit ipvs-model
bg chaos-mesh-build "$HERE/chaosmesh.sh" build
$M cluster
bg lab-build "$HERE/lab.sh" build "$K8S_VERSION"
rc=0
$M e2e-suite E2E_LABELS='!chaosmesh' || rc=1
if finish chaos-mesh-build; then
  { "$HERE/chaosmesh.sh" install "$CLUSTER_NAME" "$KUBECONFIG_FILE" && $M e2e-suite E2E_LABELS=chaosmesh REPORT_DIR="$REPORT_DIR/chaosmesh"; } || rc=1
else
  rc=1
fi
finish lab-build || rc=1
finish checks || rc=1
$M cluster-down
log test "make test: $([ $rc = 0 ] && echo passed || echo FAILED)"
exit $rc
