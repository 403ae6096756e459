package probe

import (
	"context"
	"errors"
	"sync"
	"time"
)

// inflight tracks the probes of a long-lived socket that await an answer.
// Answers are matched by sequence number; a probe not answered within the
// timeout is lost, as refused if the socket reported a refusal after it was
// sent (ICMP port unreachable cannot name the datagram it answers).
type inflight struct {
	f    Flow
	emit func(Sample)

	mu      sync.Mutex
	sent    map[uint64]inflightProbe
	refused time.Time
	lastErr error
}

type inflightProbe struct {
	at    time.Time
	local string
}

func newInflight(f Flow, emit func(Sample)) *inflight {
	return &inflight{f: f, emit: emit, sent: map[uint64]inflightProbe{}}
}

func (p *inflight) add(seq uint64, at time.Time, local string) {
	p.mu.Lock()
	p.sent[seq] = inflightProbe{at, local}
	p.mu.Unlock()
}

// answer resolves the probe r answers; late or duplicate answers are ignored.
func (p *inflight) answer(r reply, now time.Time) {
	p.mu.Lock()
	pr, ok := p.sent[r.Seq]
	delete(p.sent, r.Seq)
	p.mu.Unlock()
	if ok {
		p.emit(answeredSample(p.f, r.Seq, pr.at, now, pr.local, r))
	}
}

// refusal records an asynchronous error report on the socket.
func (p *inflight) refusal(now time.Time, err error) {
	p.mu.Lock()
	p.refused, p.lastErr = now, err
	p.mu.Unlock()
}

// expire declares lost every probe sent before cutoff.
func (p *inflight) expire(cutoff time.Time) {
	p.mu.Lock()
	var lost []Sample
	for seq, pr := range p.sent {
		if pr.at.Before(cutoff) {
			err := error(errTimeout)
			if !p.refused.Before(pr.at) && p.lastErr != nil {
				err = p.lastErr
			}
			lost = append(lost, lostSample(p.f, seq, pr.at, pr.local, err))
			delete(p.sent, seq)
		}
	}
	p.mu.Unlock()
	for _, s := range lost {
		p.emit(s)
	}
}

// failAll declares lost every probe still waiting, with err.
func (p *inflight) failAll(err error) {
	p.refusal(time.Now(), err)
	p.expire(time.Now().Add(time.Hour))
}

// sweep expires timed-out probes until ctx is done, then waits one timeout
// for the last answers and expires the rest.
func (p *inflight) sweep(ctx context.Context, timeout time.Duration) {
	tick := min(timeout/10, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			time.Sleep(timeout)
			p.expire(time.Now().Add(time.Hour))
			return
		case now := <-t.C:
			p.expire(now.Add(-timeout))
		}
	}
}

var errTimeout = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var errNotConnected = errors.New("not connected")
