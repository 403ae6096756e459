package reports

import (
	"fmt"
	"time"
)

// Dur formats a duration with millisecond precision: "12 ms", "1.234 s".
func Dur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + Dur(-d)
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
}

// Rel formats t relative to ref as "+1.234 s".
func Rel(t, ref time.Time) string {
	d := t.Sub(ref)
	if d < 0 {
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

// triggerAt is the experiment's trigger time (or its start).
func (e Experiment) triggerAt() time.Time {
	for _, m := range e.Markers {
		if m.Name == "trigger" {
			return m.At
		}
	}
	return e.Started
}
