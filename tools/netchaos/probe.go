package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/netchaos/netchaos/probe"
)

func probeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "send probes and stream samples as JSON lines",
		Args:  noArgs,
	}
	fs := cmd.Flags()
	var specs listFlag
	fs.Var(&specs, "flow", "flow NAME/MODE/HOST:PORT[/sport=N] (repeatable); modes: udp-pinned udp-fresh tcp-new tcp-reused")
	rate := fs.Float64("rate", 100, "probes per second per flow")
	timeout := fs.Duration("timeout", probe.DefaultTimeout, "an unanswered probe is lost after this long")
	duration := fs.Duration("duration", 0, "stop after this long (0: until interrupted)")
	out := fs.String("out", "-", "write samples to this file (- for stdout)")
	summary := fs.Bool("summary", false, "print a per-flow summary to stderr at the end")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stdout, stderr := cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr()
		if len(specs) == 0 {
			return usagef("no --flow given")
		}
		if *rate <= 0 || *rate > 100000 {
			return usagef("--rate %v out of range (0, 100000]", *rate)
		}
		if *timeout <= 0 || *duration < 0 {
			return usagef("--timeout must be > 0 and --duration >= 0")
		}
		flows := make([]probe.Flow, 0, len(specs))
		for _, s := range specs {
			f, err := probe.ParseFlow(s)
			if err != nil {
				return usagef("%v", err)
			}
			flows = append(flows, f)
		}
		if err := probe.UniqueNames(flows...); err != nil {
			return usagef("%v", err)
		}
		w := stdout
		if *out != "-" {
			f, err := os.Create(*out)
			if err != nil {
				return usagef("%v", err)
			}
			defer f.Close()
			w = f
		}
		if *duration > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, *duration)
			defer cancel()
		}
		sink := newSampleSink(w, *summary)
		defer sink.close()
		opts := probe.Options{Interval: time.Duration(float64(time.Second) / *rate), Timeout: *timeout}
		errs := make(chan error, len(flows))
		for _, f := range flows {
			go func() { errs <- probe.Run(ctx, f, opts, sink.emit) }()
		}
		var first error
		for range flows {
			if err := <-errs; err != nil && first == nil {
				first = err
			}
		}
		if *summary {
			sink.printSummary(stderr)
		}
		return first
	}
	return cmd
}

// sampleSink writes samples as JSON lines, flushing at least every 100 ms so
// a collector reading the pod log sees them promptly.
type sampleSink struct {
	mu    sync.Mutex
	bw    *bufio.Writer
	enc   *json.Encoder
	keep  bool
	all   []probe.Sample
	done  chan struct{}
	flush sync.WaitGroup
}

func newSampleSink(w io.Writer, keep bool) *sampleSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	s := &sampleSink{bw: bw, enc: json.NewEncoder(bw), keep: keep, done: make(chan struct{})}
	s.flush.Add(1)
	go func() {
		defer s.flush.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.mu.Lock()
				s.bw.Flush()
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *sampleSink) emit(x probe.Sample) {
	s.mu.Lock()
	s.enc.Encode(x)
	if s.keep {
		s.all = append(s.all, x)
	}
	s.mu.Unlock()
}

func (s *sampleSink) close() {
	close(s.done)
	s.flush.Wait()
	s.mu.Lock()
	s.bw.Flush()
	s.mu.Unlock()
}

func (s *sampleSink) printSummary(w io.Writer) {
	names, flows := probe.ByFlow(s.all)
	for _, n := range names {
		st := probe.Analyze(flows[n], nil, time.Time{})
		fmt.Fprintf(w, "%-16s %-10s sent %6d answered %6d lost %5d outages %3d longest %v\n",
			st.Flow, st.Mode, st.Sent, st.Answered, st.Lost, len(st.Outages), st.LongestGap)
	}
}
