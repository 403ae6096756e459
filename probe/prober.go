package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Flow is one stream of probes from this process to one target.
type Flow struct {
	Name   string
	Mode   Mode
	Target string // host:port
	// LocalPort fixes the source port of a pinned UDP socket or a reused TCP
	// connection (0: the kernel picks one). A fixed port makes the flow's
	// 5-tuple known in advance, so its conntrack entry can be found and read.
	LocalPort int
}

// Options tune a prober.
type Options struct {
	// Interval between probe sends (default 10 ms, i.e. 100 probes/s).
	Interval time.Duration
	// Timeout after which an unanswered probe counts as lost (default 500 ms).
	Timeout time.Duration
}

// Defaults for Options.
const (
	DefaultInterval = 10 * time.Millisecond
	DefaultTimeout  = 500 * time.Millisecond
)

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// Validate reports the first thing wrong with a flow, in one line.
func (f Flow) Validate() error {
	if f.Name == "" {
		return errors.New("flow has no name")
	}
	if !f.Mode.Valid() {
		return fmt.Errorf("flow %s: unknown mode %q (want one of %v)", f.Name, f.Mode, Modes)
	}
	if _, _, err := net.SplitHostPort(f.Target); err != nil {
		return fmt.Errorf("flow %s: target %q is not host:port", f.Name, f.Target)
	}
	if f.LocalPort < 0 || f.LocalPort > 65535 {
		return fmt.Errorf("flow %s: local port %d out of range", f.Name, f.LocalPort)
	}
	return nil
}

// Run sends probes for one flow until ctx is done, calling emit once per probe
// when its fate is known (answered, refused, or timed out). emit may be called
// from several goroutines at once and must not block for long. Probes still in
// flight when ctx ends are given their full timeout before Run returns.
func Run(ctx context.Context, f Flow, o Options, emit func(Sample)) error {
	if err := f.Validate(); err != nil {
		return err
	}
	o = o.withDefaults()
	switch f.Mode {
	case UDPPinned, UDPOneWay:
		return runUDPPinned(ctx, f, o, emit)
	case UDPFresh:
		return runFresh(ctx, f, o, emit, udpOnce)
	case TCPNew:
		return runFresh(ctx, f, o, emit, tcpOnce)
	default:
		return runTCPReused(ctx, f, o, emit)
	}
}

// schedule calls send at start+seq*interval for seq = 0, 1, ... until ctx is
// done. A late tick is sent at once rather than skipped, so every slot gets a
// probe and a gap in answers is never a gap in sending.
func schedule(ctx context.Context, interval time.Duration, send func(seq uint64, sent time.Time)) {
	start := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for seq := uint64(0); ; seq++ {
		if d := time.Until(start.Add(time.Duration(seq) * interval)); d > 0 {
			t.Reset(d)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		} else if ctx.Err() != nil {
			return
		}
		send(seq, time.Now())
	}
}

// classify maps a socket error to a probe result.
func classify(err error) Result {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return Refused
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return Timeout
	default:
		return Error
	}
}

// lostSample is the sample of a probe that got no answer.
func lostSample(f Flow, seq uint64, sent time.Time, local string, err error) Sample {
	s := Sample{Flow: f.Name, Mode: f.Mode, Seq: seq, Sent: sent, Local: local, Result: classify(err)}
	if s.Result != Timeout {
		s.Err = err.Error()
	}
	return s
}

// answeredSample is the sample of a probe answered by r.
func answeredSample(f Flow, seq uint64, sent, now time.Time, local string, r reply) Sample {
	return Sample{Flow: f.Name, Mode: f.Mode, Seq: seq, Sent: sent, Result: OK, RTT: now.Sub(sent), Local: local,
		Responder: Identity{Pod: r.Pod, IP: r.IP, Node: r.Node}, SeenSource: r.Src}
}

// String is the flow as the probe command takes it:
// NAME/MODE/HOST:PORT[/sport=N]. ParseFlow reads it back.
func (f Flow) String() string {
	s := f.Name + "/" + string(f.Mode) + "/" + f.Target
	if f.LocalPort != 0 {
		s += "/sport=" + strconv.Itoa(f.LocalPort)
	}
	return s
}

// ParseFlow reads NAME/MODE/HOST:PORT[/sport=N] and validates it.
func ParseFlow(s string) (Flow, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 3 || len(parts) > 4 {
		return Flow{}, fmt.Errorf("flow %q: want NAME/MODE/HOST:PORT[/sport=N]", s)
	}
	f := Flow{Name: parts[0], Mode: Mode(parts[1]), Target: parts[2]}
	if len(parts) == 4 {
		v, ok := strings.CutPrefix(parts[3], "sport=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return f, fmt.Errorf("flow %q: %q is not sport=N", s, parts[3])
		}
		f.LocalPort = n
	}
	return f, f.Validate()
}

// UniqueNames returns an error naming the first flow name given twice:
// samples are told apart by flow name, so two flows of one probe (or of the
// runner's own probes) with one name would be measured as one.
func UniqueNames(flows ...Flow) error {
	seen := make(map[string]bool, len(flows))
	for _, f := range flows {
		if seen[f.Name] {
			return fmt.Errorf("flow name %q given twice (flow names must be unique: samples are told apart by name)", f.Name)
		}
		seen[f.Name] = true
	}
	return nil
}

// Args are the probe command's arguments for flows at options o; it fails
// when two flows share a name (UniqueNames).
func Args(o Options, flows ...Flow) ([]string, error) {
	if err := UniqueNames(flows...); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	args := []string{"probe", "--rate", strconv.Itoa(int(time.Second / o.Interval)), "--timeout", o.Timeout.String()}
	for _, f := range flows {
		args = append(args, "--flow", f.String())
	}
	return args, nil
}
