package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// noArgs refuses positional arguments: every command's input is its flags.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

// flagError is a bad flag as one line of usage error, in the flag's terms
// (never the Go function that failed to parse it).
func flagError(_ *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	if !errors.As(err, &bad) {
		return usagef("%v", err)
	}
	why := bad.Unwrap().Error()
	var num *strconv.NumError
	if errors.As(bad.Unwrap(), &num) {
		why = "not a number"
		if errors.Is(num.Err, strconv.ErrRange) {
			why = "out of range"
		}
	}
	return usagef("invalid value %q for --%s: %s", bad.GetValue(), bad.GetFlag().Name, strings.TrimPrefix(why, "time: "))
}

// oneLine keeps a message on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// listFlag is a repeatable, comma-separable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Type() string { return "strings" }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

var _ pflag.Value = (*listFlag)(nil)

// exactlyOne is an argument check for a command taking one argument, named
// what in messages.
func exactlyOne(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return usagef("name the %s", what)
		case len(args) > 1:
			return usagef("unexpected argument %q: one %s at a time", args[1], what)
		}
		return nil
	}
}
