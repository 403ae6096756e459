package probe

import (
	"context"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkProbeRate runs each mode for a fixed 2 s at several rates against
// an in-process echo on loopback and reports, per rate: the probes actually
// sent per second, the share lost, and the CPU the process used (prober and
// echo together, so the prober alone uses less). Run with -cpu 1 -benchtime 1x
// to hold it to one core: `make bench`.
func BenchmarkProbeRate(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Echo(ctx, Identity{Pod: "bench"}, []string{addr}, []string{addr})
	time.Sleep(100 * time.Millisecond)
	for _, m := range Modes {
		for _, rate := range []int{100, 2000, 20000} {
			b.Run(fmt.Sprintf("%s/%d_per_s", m, rate), func(b *testing.B) {
				for range b.N {
					sent, lost, cpu, wall := runFor(b, Flow{Name: "b", Mode: m, Target: addr}, rate, 2*time.Second)
					b.ReportMetric(float64(sent)/wall.Seconds(), "probes/s")
					b.ReportMetric(100*float64(lost)/float64(max(sent, 1)), "%lost")
					b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "%cpu")
					b.ReportMetric(float64(cpu.Microseconds())/float64(max(sent, 1)), "cpu-µs/probe")
				}
			})
		}
	}
}

func runFor(b *testing.B, f Flow, rate int, d time.Duration) (sent, lost int, cpu, wall time.Duration) {
	var mu sync.Mutex
	c0 := cpuTime()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := Run(ctx, f, Options{Interval: time.Second / time.Duration(rate), Timeout: 200 * time.Millisecond}, func(s Sample) {
		mu.Lock()
		sent++
		if !s.Answered() {
			lost++
		}
		mu.Unlock()
	})
	if err != nil {
		b.Fatal(err)
	}
	// Rates are per second of sending; the CPU includes the idle tail in
	// which Run waits for late answers, so %cpu errs high.
	return sent, lost, cpuTime() - c0, d
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
