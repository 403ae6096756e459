// Command netchaos runs network chaos experiments against a Kubernetes cluster
// and measures how long traffic was lost. It is also the probe agent that the
// experiments deploy: the same binary echoes and probes inside the cluster.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/netchaos/netchaos/experiments"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes, the same for every command:
//
//	0    ok
//	1    the gate failed (run --gate: an experiment is vulnerable or errored;
//	     diff --fail-on worse: something got worse beyond noise)
//	2    usage: bad flags, arguments, files or kubeconfig
//	3    the cluster or the tool failed (unreachable API server, an error
//	     while running)
//	130  interrupted (Ctrl-C), after cleaning up
const (
	exitGate  = 1
	exitUsage = 2
	exitError = 3
)

// usageError is bad input: printed as one line, exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// exitCode ends a command with a given code and no further message (the
// command printed what it had to say).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func main() {
	experiments.Version = version
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// Whatever fails before a command starts (a flag, an argument, an
	// unknown command) is bad input.
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var ue usageError
	var ec exitCode
	if errors.As(err, &ec) {
		return int(ec)
	}
	name := "netchaos"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	fmt.Fprintf(stderr, "%s: %s\n", name, oneLine(err.Error()))
	if errors.As(err, &ue) || !started {
		return exitUsage
	}
	return exitError
}
