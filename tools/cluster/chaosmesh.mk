# Chaos Mesh for the chaosmesh experiments (included by cluster.mk).
#   make chaos-mesh        build controller-manager + chaos-daemon from the Go module sources
#                          (offline), load them into the running cluster, apply CRDs and a minimal
#                          deployment in namespace chaos-mesh; skipped when installed and up to date
#   make chaos-mesh-down   remove it (faults first, CRDs, namespace, cluster RBAC)
.PHONY: chaos-mesh chaos-mesh-down

## chaos-mesh: Chaos Mesh built offline into the running cluster $(CLUSTER_NAME) (idempotent)
chaos-mesh: cluster
	@$(CLUSTER_SH)/chaosmesh.sh install $(CLUSTER_NAME) $(KUBECONFIG_FILE)

chaos-mesh-down:
	@$(CLUSTER_SH)/chaosmesh.sh uninstall $(CLUSTER_NAME) $(KUBECONFIG_FILE)
