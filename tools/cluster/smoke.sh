#!/usr/bin/env bash
# Smoke test of a running cluster: nodes Ready, CoreDNS answers, pod-to-pod
# across nodes, hostPort from the host, LoadBalancer IP from the host.
# Traffic stays on this machine (kind network and pods).
#   usage: smoke.sh <kubeconfig> <cluster-name>
source "$(dirname "$0")/lib.sh"
NAME=$2 K="$BIN/kubectl --kubeconfig $1 --context kind-$2" NS=netchaos-smoke IMG=netchaos/busybox:1.35
w1=$NAME-worker w2=$NAME-worker2
$K get nodes
$K delete ns $NS --ignore-not-found --wait >/dev/null
$K create ns $NS >/dev/null
trap '$K delete ns $NS --wait=false >/dev/null 2>&1' EXIT
$K -n $NS apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec:
  nodeName: $w1
  containers:
  - name: web
    image: $IMG
    command: [sh, -c, 'mkdir -p /www && echo hello-from-\$(hostname) > /www/index.html && exec httpd -f -p 8080 -h /www']
    ports: [{ containerPort: 8080, hostPort: 18080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  nodeName: $w2
  containers: [{ name: c, image: $IMG, command: [sleep, "3600"] }]
---
apiVersion: v1
kind: Service
metadata: { name: web-lb }
spec:
  type: LoadBalancer
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
YAML
$K -n $NS wait --for=condition=Ready pod/web pod/client --timeout=120s >/dev/null
webip=$($K -n $NS get pod web -o jsonpath='{.status.podIP}')
echo "--- DNS (kubernetes.default via CoreDNS)"
$K -n $NS exec client -- nslookup kubernetes.default.svc.cluster.local
echo "--- pod-to-pod across nodes ($w2 -> $w1 $webip)"
$K -n $NS exec client -- ping -c 2 -W 2 "$webip"
$K -n $NS exec client -- wget -qO- "http://$webip:8080/"
echo "--- ClusterIP from a pod"
$K -n $NS exec client -- wget -qO- "http://web-lb.$NS.svc.cluster.local/"
n1=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$w1")
echo "--- hostPort from the host ($n1:18080)"
curl -sS -m 5 "http://$n1:18080/"
echo "--- LoadBalancer from the host"
for _ in $(seq 1 60); do
  lb=$($K -n $NS get svc web-lb -o jsonpath='{.status.loadBalancer.ingress[0].ip}'); [ -n "$lb" ] && break; sleep 1
done
[ -n "$lb" ] || die "no LoadBalancer IP"
echo "LB IP $lb"
for _ in $(seq 1 30); do curl -sS -m 2 "http://$lb/" && break; sleep 1; done || die "LB $lb does not answer"
echo "SMOKE OK"
