package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// progress prints the tools/cluster scripts' progress lines (lib.sh's log):
// "[tag mm:ss] message", whole seconds since $CLUSTER_T0 (the Makefile sets it
// when make starts, so every step of make test counts from the same instant).
type progress struct {
	w   io.Writer
	t0  int64 // Unix seconds
	now func() time.Time
}

// newProgress counts from $CLUSTER_T0, or from now when it is unset or not a
// number (as lib.sh does); t0 is what to export to the scripts.
func newProgress(w io.Writer) *progress {
	p := &progress{w: w, now: time.Now}
	if t0, err := strconv.ParseInt(os.Getenv("CLUSTER_T0"), 10, 64); err == nil {
		p.t0 = t0
	} else {
		p.t0 = p.now().Unix()
	}
	return p
}

func (p *progress) log(tag, format string, args ...any) {
	s := p.now().Unix() - p.t0
	fmt.Fprintf(p.w, "[%s %02d:%02d] %s\n", tag, s/60, s%60, fmt.Sprintf(format, args...))
}
