# Offline kind cluster for netchaos (included by the top-level Makefile).
#   make cluster        docker engine + images + probe image + 3-node cluster (reused when Ready),
#                       by tools/kindcluster (kind's Go API), which runs cni.sh (with the VPC CNI's
#                       plugins on every worker, for T3), metallb.sh, lab.sh
#   make cluster-down   delete the cluster
#   make clean-cluster  delete clusters and every image these targets built
#   make lab            put the running cluster into lab profile LAB_PROFILE (lab.sh)
# Variables: K8S_VERSION, KUBE_PROXY_MODE (iptables|nftables), CLUSTER_NAME,
# LAB_PROFILE (default|vpc-like|portmap-v0.8.7|kube-proxy-no-ct-cleanup).
K8S_VERSION ?= v1.34.2
KUBE_PROXY_MODE ?= iptables
CLUSTER_NAME ?= netchaos
LAB_PROFILE ?= default
export LAB_PROFILE
OUT ?= $(CURDIR)/_out
KUBECONFIG_FILE := $(OUT)/kubeconfig
KIND_CONFIG ?= $(CURDIR)/kind-config.yaml
PROBE_IMAGE ?= netchaos/probe:dev
KINDCLUSTER := $(OUT)/bin/kindcluster

CLUSTER_SH := $(CURDIR)/tools/cluster
export OUT GOTOOLCHAIN
# progress lines show seconds since this make (or the make test that runs it) started
ifndef CLUSTER_T0
CLUSTER_T0 := $(shell date +%s)
endif
export CLUSTER_T0

.PHONY: cluster-args docker images probe-image kindcluster vpccni cluster cluster-down clean-cluster cluster-smoke lab

cluster-args:
	@case "$(KUBE_PROXY_MODE)" in iptables|nftables) ;; *) echo "error: KUBE_PROXY_MODE=$(KUBE_PROXY_MODE) is not supported here (iptables or nftables; this kernel has no IPVS)" >&2; exit 2;; esac
	@case "$(K8S_VERSION)" in v1.[0-9]*.[0-9]*) ;; *) echo "error: K8S_VERSION=$(K8S_VERSION) is not of the form v1.MINOR.PATCH" >&2; exit 2;; esac

## docker: start a Docker engine when none answers (installing docker.io and, if the host needs it, the runc wrapper)
docker:
	@$(CLUSTER_SH)/docker.sh

## images: node image for K8S_VERSION plus every component image, built offline; cached per version
images: cluster-args docker
	@$(CLUSTER_SH)/images.sh all $(K8S_VERSION)

## probe-image: $(PROBE_IMAGE) from ./tools/netchaos (static, CGO_ENABLED=0)
probe-image: docker
	@$(CLUSTER_SH)/probe-image.sh $(PROBE_IMAGE)

## vpccni: the AWS VPC CNI's plugins and the stand-in ipamd for T3 (tools/vpccni), static, in $(OUT)/vpccni/bin;
## cni.sh puts them on every worker (skipped when current; make test builds them beside the images)
vpccni:
	@$(CLUSTER_SH)/vpccni.sh build

## kindcluster: $(KINDCLUSTER), the cluster's lifecycle through kind's Go API (tools/kindcluster)
kindcluster:
	@$(GO) build -o $(KINDCLUSTER) ./tools/kindcluster

## cluster: kind cluster $(CLUSTER_NAME) from kind-config.yaml; kubeconfig in $(KUBECONFIG_FILE)
# (LAB_PROFILE reaches it through the environment; $(OUT)/bin/kind is for the scripts, which call it)
cluster: cluster-args docker images probe-image vpccni kindcluster
	@[ -x $(OUT)/bin/kind ] || $(GO) build -o $(OUT)/bin/kind sigs.k8s.io/kind
	@$(KINDCLUSTER) up --name=$(CLUSTER_NAME) --k8s-version=$(K8S_VERSION) --kube-proxy-mode=$(KUBE_PROXY_MODE) \
	  --kubeconfig=$(KUBECONFIG_FILE) --config=$(KIND_CONFIG) --load-image=$(PROBE_IMAGE) --scripts=$(CLUSTER_SH)

## lab: the running cluster into lab profile $(LAB_PROFILE): a positive control's configuration or the default
lab:
	@$(CLUSTER_SH)/lab.sh $(CLUSTER_NAME) $(KUBECONFIG_FILE) $(LAB_PROFILE)

## cluster-smoke: DNS, cross-node pod ping, hostPort and LoadBalancer from the host, on the running cluster
cluster-smoke:
	@$(CLUSTER_SH)/smoke.sh $(KUBECONFIG_FILE) $(CLUSTER_NAME)

## cluster-down: delete cluster $(CLUSTER_NAME) and its context in $(KUBECONFIG_FILE) (nothing to do without docker)
cluster-down: kindcluster
	@$(KINDCLUSTER) down --name=$(CLUSTER_NAME) --kubeconfig=$(KUBECONFIG_FILE)

clean-cluster:
	@$(CLUSTER_SH)/clean.sh
	@rm -f $(KUBECONFIG_FILE)

include $(CLUSTER_SH)/chaosmesh.mk
