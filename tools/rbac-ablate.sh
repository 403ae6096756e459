#!/usr/bin/env bash
# Evidence that manifests/rbac.yaml is minimal: installs it, mints a token for
# netchaos-runner, and for each case takes one grant away from the runner's
# ClusterRole and runs the experiment that needs it with only that token,
# printing the run's outcome and its Forbidden lines. Cleans up each run (as
# the admin, by run ID only) and uninstalls at the end.
#   usage: KUBECONFIG=... CONTEXT=... IMAGE=... tools/rbac-ablate.sh [case-regexp]
#   cases: "<rule resource>|<verbs left, JSON; [] drops the rule>|<experiments>"
set -u
cd "$(dirname "$0")/.."
: "${KUBECONFIG:?}" "${CONTEXT:?}" "${IMAGE:?}"
OUT=${OUT:-_out}/ablate
mkdir -p "$OUT"
K="${KUBECTL:-kubectl} --kubeconfig $KUBECONFIG --context $CONTEXT"
BIN=$OUT/netchaos
go build -o "$BIN" ./tools/netchaos || exit 1
light=udp-recreate-clusterip
cases=(
  "nodes|[]|$light" "namespaces|[]|$light" "clusterroles|[]|$light" "serviceaccounts|[]|$light"
  "pods|[]|$light" "pods/log|[]|$light" "pods/exec|[]|$light" "services|[]|$light"
  "endpointslices|[]|$light" "daemonsets|[]|$light" "deployments|[]|$light"
  "daemonsets|[\"create\",\"get\"]|hostport-to-hostnetwork"
  "pods|[\"create\",\"get\",\"list\",\"delete\"]|hostport-to-hostnetwork"
  "deployments/scale|[\"get\"]|udp-recreate-scale-to-zero"
  "pods|[\"create\",\"list\",\"deletecollection\"]|traffic-policy-matrix"
)
$K apply -f manifests/rbac.yaml >/dev/null || exit 1
trap '$K delete -f manifests/rbac.yaml >/dev/null' EXIT
token=$($K -n netchaos-system create token netchaos-runner --duration 2h)
server=$($K config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
ca=$($K config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
kc=$OUT/runner.kubeconfig
cat >"$kc" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$server", certificate-authority-data: "$ca"}}]
users: [{name: netchaos-runner, user: {token: "$token"}}]
contexts: [{name: "$CONTEXT", context: {cluster: c, user: netchaos-runner}}]
KC
for c in "${cases[@]}"; do
  IFS='|' read -r res verbs exps <<<"$c"
  [ -n "${1:-}" ] && ! grep -qE "$1" <<<"$c" && continue
  $K apply -f manifests/rbac.yaml >/dev/null
  i=$($K get clusterrole netchaos-runner -o json | python3 -c "import json,sys; print([i for i,r in enumerate(json.load(sys.stdin)['rules']) if '$res' in r['resources']][0])")
  if [ "$verbs" = "[]" ]; then patch="[{\"op\":\"remove\",\"path\":\"/rules/$i\"}]"; else patch="[{\"op\":\"replace\",\"path\":\"/rules/$i/verbs\",\"value\":$verbs}]"; fi
  $K patch clusterrole netchaos-runner --type=json -p "$patch" >/dev/null
  log=$OUT/$(tr '/[]",' '-' <<<"$res-$verbs").log
  start=$(date +%s)
  timeout -k 60 -s INT 400 "$BIN" run --kubeconfig "$kc" --context "$CONTEXT" --image "$IMAGE" --experiments "$exps" \
    --observe 20s --gate --ttl 5m --report-dir "$OUT/report" >"$log" 2>&1
  echo "=== $res left with $verbs, $exps: exit $? after $(($(date +%s) - start))s"
  grep -i forbidden "$log" | sort -u | head -2 | cut -c1-400 | sed 's/^/    /'
  for id in $(grep -oE '[0-9]{4}-[0-9]{4}-[0-9a-f]{6} \(janitor' "$log" | cut -d' ' -f1 | sort -u); do
    "$BIN" cleanup --kubeconfig "$KUBECONFIG" --context "$CONTEXT" --run "$id" | grep deleted | sed 's/^/    admin cleanup: /'
  done
done
