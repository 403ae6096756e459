# netchaos — two entry points on a fresh machine:
#   make run    create the kind cluster from kind-config.yaml, run the suite, write the report
#   make test   everything CI checks: unit tests, kernel precision test, cluster + e2e specs
SHELL := /bin/bash
export GOTOOLCHAIN := local
# One set of flags for every build of this module (tests and vet, the CLI, the
# probe image, the e2e binary, kind and tools/kindcluster): each package compiles once, not once per
# flag set. The other modules' builds (tools/cluster) set their own.
export CGO_ENABLED := 0
export GOFLAGS := -trimpath -buildvcs=false
GO ?= go
OUT ?= $(CURDIR)/_out
BIN := $(OUT)/bin
REPORT_DIR ?= $(CURDIR)/_out/report

.PHONY: all build test unit precision hostdeps e2e e2e-suite e2e-build run bench clean controls ipvs-model
all: build

## build: the CLI, stamped with its commit (-buildvcs=auto overrides GOFLAGS' false for this one link; netchaos version shows it)
build:
	$(GO) build -buildvcs=auto -o $(BIN)/netchaos ./tools/netchaos

## unit: pure-logic tests (no cluster, no root); the netns precision test is make precision's
unit:
	$(GO) vet ./...
	$(GO) test -skip '^TestNetnsPrecision$$' ./probe/... ./experiments/... ./reports/... ./tools/... ./manifests/...

## hostdeps: host tools the kernel-level tests use (installed only when missing)
hostdeps:
	@command -v nft >/dev/null && command -v ip >/dev/null || { \
	  echo "[hostdeps] installing nftables iproute2"; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables iproute2) >/dev/null; }

## precision: the probe against real packets in two network namespaces (needs root)
precision: hostdeps
	NETCHAOS_REQUIRE_NETNS=1 $(GO) test -count=1 -v -run 'TestNetnsPrecision' ./probe/netnstest/

## bench: probe CPU cost at 100/s and at maximum rate
bench:
	$(GO) test -run '^$$' -bench ProbeRate -benchtime 1x -cpu 1 ./probe/

-include tools/cluster/cluster.mk
include reports/screenshot.mk

## ipvs-model: re-run kube-proxy's IPVS proxier (k8s.io/kubernetes, against its fakes) and check T4's recorded IPVS rows
ipvs-model:
	$(GO) run ./tools/ipvsmodel -check -work $(OUT)/ipvsmodel

## test: everything above, the cluster's images and suite on the critical path and the rest
## beside them at SCHED_IDLE (tools/cluster/test.sh)
test:
	@REPORT_DIR=$(REPORT_DIR) K8S_VERSION=$(K8S_VERSION) CLUSTER_NAME=$(CLUSTER_NAME) KUBECONFIG_FILE=$(KUBECONFIG_FILE) \
	  $(CLUSTER_SH)/test.sh

## e2e: Ginkgo specs on a real kind cluster (created, then torn down)
GINKGO := $(GO) tool ginkgo
E2E_LABELS ?=
E2E_ENV = KUBECONFIG=$(KUBECONFIG_FILE) NETCHAOS_CONTEXT=kind-$(CLUSTER_NAME) NETCHAOS_IMAGE=$(PROBE_IMAGE) NETCHAOS_REPORT_DIR=$(REPORT_DIR) \
  NETCHAOS_LAB=$(CURDIR)/tools/cluster/lab.sh
e2e: cluster chaos-mesh
	rc=0; $(MAKE) e2e-suite || rc=$$?; $(MAKE) cluster-down; exit $$rc

## e2e-suite: the specs on the running cluster (make cluster chaos-mesh first), no teardown;
## E2E_BIN=e2e/e2e.test runs the binary make e2e-build compiled instead of compiling ./e2e
E2E_BIN ?= ./e2e
e2e-suite:
	$(E2E_ENV) $(GINKGO) -v --timeout=60m $(if $(E2E_LABELS),--label-filter='$(E2E_LABELS)') $(E2E_BIN)

## e2e-build: compile the specs once into e2e/e2e.test (make test runs it beside the cluster's creation)
e2e-build:
	$(GINKGO) build ./e2e

## controls: every positive control and its fixed twin, CONTROLS_N times each, on the running
## kind cluster (make cluster first): verdict counts and outage spreads (the repeatability table)
CONTROLS_N ?= 5
controls:
	$(GO) run ./tools/controls --kubeconfig $(KUBECONFIG_FILE) --context kind-$(CLUSTER_NAME) --image $(PROBE_IMAGE) \
	  -n $(CONTROLS_N) --report-dir $(OUT)/controls $(if $(CONTROLS_ONLY),--only '$(CONTROLS_ONLY)')

## run: the main job: cluster from kind-config.yaml, whole suite, report in $(REPORT_DIR)
run: cluster chaos-mesh
	$(E2E_ENV) $(GINKGO) -v --timeout=60m ./e2e
	@echo "report: $(REPORT_DIR)"
