# Version pins (sourced). Kubernetes itself comes from K8S_VERSION.
ETCD_MODULE_VERSION=v3.6.5        # go.etcd.io/etcd/server/v3; tagged as whatever kubeadm asks for
COREDNS_VERSION=v1.12.1           # github.com/coredns/coredns; tagged as kubeadm's coredns image
METALLB_VERSION=v0.15.2           # go.universe.tf/metallb
KIND_VERSION=v0.30.0              # sigs.k8s.io/kind (pinned in the main go.mod)
NODE_DEBS=systemd,dbus,iptables,nftables,iproute2,conntrack,ethtool,socat,util-linux,mount,kmod,ca-certificates,libseccomp2,procps,containerd,runc,containernetworking-plugins,jq,bash,pigz,iputils-ping
PROXY_DEBS=iptables,nftables,conntrack
