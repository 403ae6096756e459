#!/usr/bin/env bash
# Deletes the kind clusters and every image tools/cluster built.
source "$(dirname "$0")/lib.sh"
docker info >/dev/null 2>&1 || { log clean "no docker engine: nothing to clean"; exit 0; }
if [ -x "$BIN/kind" ]; then
  for c in $("$BIN/kind" get clusters 2>/dev/null); do "$BIN/kind" delete cluster --name "$c" --kubeconfig "$OUT/kubeconfig"; done
fi
imgs=$(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^(netchaos/(kind-node|kind-base|kube-proxy-base|tools-base|busybox|probe|chaos-)|registry\.k8s\.io/|quay\.io/metallb/)' || true)
[ -z "$imgs" ] || docker rmi -f $imgs >/dev/null
docker image prune -f >/dev/null 2>&1 || true   # superseded probe/node builds
# cni.sh's stand-in for the VPC dropping unrouted service addresses
while iptables -S DOCKER-USER 2>/dev/null | grep -q netchaos-unrouted-service; do
  iptables -D DOCKER-USER $(iptables -S DOCKER-USER | grep -m1 netchaos-unrouted-service | cut -d' ' -f3-) || break
done
log clean "removed clusters and $(echo "$imgs" | grep -c . || true) images"
