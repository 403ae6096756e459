package reports

import (
	"fmt"
	"time"
)

// Dur formats a duration with millisecond precision: "12 ms", "1.234 s".
func Dur(d time.Duration) string {
	switch {
	case d < 0:
		return "−" + Dur(-d)
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.3f s", d.Round(time.Millisecond).Seconds())
	}
}

// Secs formats a window length: whole seconds as "60 s", else like Dur.
func Secs(d time.Duration) string {
	if d >= time.Second && d%time.Second == 0 {
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return Dur(d)
}

// Rel formats t relative to ref: "+1.234 s", "−2.000 s", "0" at ref.
func Rel(t, ref time.Time) string {
	d := t.Sub(ref).Round(time.Millisecond)
	switch {
	case d == 0:
		return "0"
	case d < 0:
		return "−" + Dur(-d)
	}
	return "+" + Dur(d)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// triggerAt is the time offsets are relative to: the first trigger marker,
// else the experiment's start.
func (e Experiment) triggerAt() time.Time {
	if m, ok := e.trigger(); ok {
		return m.At
	}
	return e.Started
}
