// Command kindcluster creates, reuses and deletes the netchaos kind cluster
// through kind's Go API (sigs.k8s.io/kind/pkg/cluster), and reads the
// cluster's state with client-go. The steps that stay shell (the static CNI,
// MetalLB, the lab profiles) run as the tools/cluster scripts (cni.sh,
// metallb.sh, lab.sh), in the order and with the arguments the shell script
// it replaces (cluster.sh) gave them.
//
//	kindcluster up     --name N --k8s-version V [--kube-proxy-mode M] [flags]   create, or reuse when Ready
//	kindcluster down   --name N [--kubeconfig F]                                delete
//	kindcluster status --name N --k8s-version V [--kube-proxy-mode M] [flags]   would up reuse it? (changes nothing)
//	kindcluster config [--config F] [--kube-proxy-mode M]                       the kind config up gives kind
//
// Exit codes: 0 ok (status: the cluster would be reused); 1 a failure (status:
// it would not be reused); 2 bad input (flags, version, mode, config file).
// Errors are one line on stderr; progress lines are the tools/cluster
// scripts' "[tag mm:ss] message", seconds since $CLUSTER_T0.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is bad input: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// errNotReusable is status's answer "no": exit code 1, its line already printed.
var errNotReusable = errors.New("not reusable")

const usage = `usage: kindcluster up|down|status|config [flags]   (kindcluster <command> -h: its flags)
  up      create the kind cluster, or reuse it when it exists, all its nodes are Ready and it
          runs the requested Kubernetes version and kube-proxy mode; static CNI, images, MetalLB
  down    delete the cluster and its kubeconfig context
  status  print whether up would reuse the cluster, and if not why (exit 0 yes, 1 no); changes nothing
  config  print the kind config up creates the cluster with (kind-config.yaml, kube-proxy mode set)
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "up":
		err = cmdUp(rest, stdout, stderr)
	case "down":
		err = cmdDown(rest, stdout, stderr)
	case "status":
		err = cmdStatus(rest, stdout)
	case "config":
		err = cmdConfig(rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usagef("unknown command %q (up, down, status, config)", cmd)
	}
	var ue usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errNotReusable):
		return 1
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
}
