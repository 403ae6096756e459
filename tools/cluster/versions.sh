# Version pins (sourced). Kubernetes itself comes from K8S_VERSION.
ETCD_MODULE_VERSION=v3.6.5        # go.etcd.io/etcd/server/v3; tagged as whatever kubeadm asks for
COREDNS_VERSION=v1.12.1           # github.com/coredns/coredns; tagged as kubeadm's coredns image
METALLB_VERSION=v0.15.2           # go.universe.tf/metallb
KIND_VERSION=v0.30.0              # sigs.k8s.io/kind (pinned in the main go.mod)
NODE_DEBS=systemd,dbus,iptables,nftables,iproute2,conntrack,ethtool,socat,util-linux,mount,kmod,ca-certificates,libseccomp2,procps,containerd,runc,containernetworking-plugins,jq,bash,pigz,iputils-ping
# One small Debian root under the kube-proxy, probe agent and chaos-daemon images (tools_base
# in lib.sh): one debootstrap instead of three (each ~67 s of CPU on 2 cores).
TOOLS_DEBS=iptables,nftables,conntrack,iproute2,procps,ipset,ca-certificates
OLD_PROXY_VERSION=v1.31.14        # kube-proxy before the v1.32 conntrack reconciler (lab profile kube-proxy-v1.31)
# Chaos Mesh: the proxy serves these pseudo-versions (tagged v2.x are refused). The
# api module is a separate module the main one replaces with ./api, which its zip
# does not carry; the build points the replace at this version instead.
CHAOSMESH_VERSION=v0.9.1-0.20260902003049-47411975a8cb
CHAOSMESH_API_VERSION=v0.0.0-20260906172039-d70b66ad97ac
