package reports

import (
	"fmt"
	"math"
)

// maxTicks is how many responder changes a timeline labels; a flow whose
// responders changed more often (load balanced) is summarised instead.
const maxTicks = 12

// responderLabel is a short name for a responder span on a timeline (its
// pod, else its address), with the client's address as the responder saw
// it when that changed from prevSeen.
func responderLabel(sp ResponderSpan, prevSeen string) string {
	s := sp.Responder.Pod
	if s == "" {
		s = sp.Responder.String()
	}
	if s == "" {
		s = "unidentified"
	}
	if sp.SeenSource != "" && sp.SeenSource != prevSeen {
		s += ", client seen as " + sp.SeenSource
	}
	return s
}

// tickLabel formats an axis tick in seconds relative to the trigger.
func tickLabel(s, step float64) string {
	if math.Abs(s) < step/1e6 {
		return "0"
	}
	prec := 0
	if step < 1 {
		prec = int(math.Ceil(-math.Log10(step)))
	}
	v := fmt.Sprintf("%.*f s", prec, math.Abs(s))
	if s < 0 {
		return "−" + v
	}
	return "+" + v
}

// niceStep rounds a raw step in seconds up to 1, 2 or 5 times a power of
// ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}
