// Package logenv points the VPC CNI's package-level logger at stderr unless
// AWS_VPC_K8S_CNI_LOG_FILE says otherwise. amazon-vpc-cni-k8s's networkutils
// (and so datastore) runs `var log = logger.Get()` at package initialisation,
// which opens AWS_VPC_K8S_CNI_LOG_FILE or, unset, creates
// /host/var/log/aws-routed-eni/ipamd.log: right inside ipamd's container, a
// stray /host tree anywhere else. Imported (blank) by the stand-in's main
// package, this init runs before networkutils' because Go initialises, among
// packages whose imports are done, the one with the smallest import path
// first (github.com/netchaos/... sorts before networkutils' own dependencies
// github.com/vishvananda/netlink and k8s.io/..., which must come before it).
package logenv

import "os"

// Var is the VPC CNI's log file variable (pkg/utils/logger: envLogFilePath).
const Var = "AWS_VPC_K8S_CNI_LOG_FILE"

func init() {
	if os.Getenv(Var) == "" {
		os.Setenv(Var, "stderr")
	}
}
