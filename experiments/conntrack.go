package experiments

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// CTEntry is one conntrack entry as `conntrack -L` prints it: the original
// tuple (as the first packet had it) and the reply tuple (as the answer is
// expected back). An entry whose reply source is not its original
// destination was DNATed: the kernel rewrites every later packet of the
// flow the same way, whatever the NAT rules say now.
type CTEntry struct {
	Line      string
	Proto     string
	Orig      Tuple
	Reply     Tuple
	Unreplied bool
}

// Tuple is one direction of a conntrack entry.
type Tuple struct {
	Src, Dst     string
	Sport, Dport int
}

// DNATed reports whether the entry rewrites the destination.
func (c CTEntry) DNATed() bool { return c.Reply.Src != c.Orig.Dst || c.Reply.Sport != c.Orig.Dport }

// ReplyFrom is the address the flow's packets are delivered to (the reply
// source), as host:port.
func (c CTEntry) ReplyFrom() string {
	return net.JoinHostPort(c.Reply.Src, strconv.Itoa(c.Reply.Sport))
}

// ParseConntrack reads the entries of `conntrack -L` output; lines that are
// not entries (the tool's summary, errors) are skipped.
func ParseConntrack(text string) []CTEntry {
	var out []CTEntry
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		e := CTEntry{Line: strings.TrimSpace(line), Proto: f[0]}
		n := 0 // how many src= seen: 1 original, 2 reply
		for _, kv := range f {
			if kv == "[UNREPLIED]" {
				e.Unreplied = true
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			if k == "src" {
				n++
			}
			t := &e.Orig
			if n == 2 {
				t = &e.Reply
			}
			switch k {
			case "src":
				t.Src = v
			case "dst":
				t.Dst = v
			case "sport":
				t.Sport, _ = strconv.Atoi(v)
			case "dport":
				t.Dport, _ = strconv.Atoi(v)
			}
		}
		if n == 2 {
			out = append(out, e)
		}
	}
	return out
}

// DeleteConntrack runs `conntrack -D <filter>` on node until stale reports
// nothing left to delete, for up to DeleteFor (at least five attempts, 200 ms
// apart), and returns what each attempt printed. One pass is not enough:
// on a busy node a delete that walked ~2000 entries to the agent port while
// fresh-port flows kept adding more listed the pinned flow's stale entry as
// deleted but not the one-way flow's, which stayed (still un-NATed) until
// its client restarted (T1 control run, 2026-11-29; why the walk missed it
// is not established here, a table dump that changes while it is read is
// the likely cause); and while kube-proxy has not yet applied a change (a
// deleted Service's rules still in place), the flow's next packet makes the
// entry again, until its sync lands.
func (r *Run) DeleteConntrack(ctx context.Context, node, filter string, stale func(context.Context) (string, error)) (string, error) {
	var out []string
	var left string
	start := time.Now()
	for attempt := 1; ; attempt++ {
		got, err := r.Agent.Run(ctx, node, "sh", "-c", "conntrack -D "+filter+" 2>&1 | tail -3; true")
		if err != nil {
			return strings.Join(out, "\n"), err
		}
		out = append(out, fmt.Sprintf("attempt %d (+%.1f s): conntrack -D %s\n%s", attempt, time.Since(start).Seconds(), filter, strings.TrimSpace(got)))
		if left, err = stale(ctx); err != nil {
			return strings.Join(out, "\n"), err
		}
		if left == "" {
			return strings.Join(out, "\n"), nil
		}
		out = append(out, "still there: "+left)
		if attempt >= 5 && time.Since(start) >= DeleteFor {
			return strings.Join(out, "\n"), fmt.Errorf("stale conntrack entries on %s survived %d deletes in %.1f s: %s", node, attempt, time.Since(start).Seconds(), left)
		}
		select {
		case <-ctx.Done():
			return strings.Join(out, "\n"), ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// DeleteFor is how long DeleteConntrack keeps deleting entries that come
// back: a kube-proxy sync on a loaded node lands within a few seconds.
const DeleteFor = 8 * time.Second
