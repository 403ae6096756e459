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
	"sort"
	"syscall"

	"github.com/netchaos/netchaos/experiments"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	commands[name] = command{summary, run}
}

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

func main() {
	experiments.Version = version
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "netchaos: unknown command %q (run 'netchaos help')\n", args[0])
		return exitUsage
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	var ue usageError
	var ec exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return int(ec)
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "netchaos %s: %s\n", args[0], ue.msg)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "netchaos %s: %v\n", args[0], err)
		return exitError
	}
}

// exitCode ends a command with a given code and no further message (the
// command printed what it had to say).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: netchaos <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nrun 'netchaos <command> -h' for its flags")
}

func init() {
	register("version", "print the version", func(_ context.Context, args []string, stdout, _ io.Writer) error {
		if len(args) > 0 {
			return usagef("takes no arguments")
		}
		fmt.Fprintln(stdout, "netchaos", version)
		return nil
	})
}
