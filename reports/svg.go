package reports

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"
)

// SVG geometry of a flow timeline.
const (
	svgW, svgLeft, svgRight = 960, 10, 10
	barY, barH              = 26, 28
	svgH                    = 96
)

// timelineSVG draws one flow: a bar per bucket (green all answered, red all
// lost, amber mixed), vertical lines at the markers, ticks where the
// responder changed, and a time axis relative to the trigger.
func timelineSVG(e Experiment, f Flow) template.HTML {
	t := f.Timeline
	t0 := e.triggerAt()
	n := len(t.Answered)
	if n == 0 {
		return template.HTML(`<p class="muted">no samples</p>`)
	}
	start := t.Start
	end := start.Add(time.Duration(n) * t.Bucket)
	span := end.Sub(start).Seconds()
	x := func(at time.Time) float64 {
		return svgLeft + (svgW-svgLeft-svgRight)*at.Sub(start).Seconds()/span
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" width="100%%" shape-rendering="crispEdges" role="img" aria-label="timeline of %s">`, svgW, svgH, html.EscapeString(f.Name))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#eef0f3"/>`, svgLeft, barY, svgW-svgLeft-svgRight, barH)
	bw := (svgW - svgLeft - svgRight) / float64(n)
	for i := 0; i < n; i++ {
		a, l := t.Answered[i], t.Lost[i]
		color := ""
		switch {
		case a > 0 && l == 0:
			color = "#2e9e5b"
		case a == 0 && l > 0:
			color = "#d64545"
		case a > 0 && l > 0:
			color = "#e8a33d"
		default:
			continue
		}
		fmt.Fprintf(&b, `<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"><title>%s: %d answered, %d lost</title></rect>`,
			svgLeft+float64(i)*bw, barY, math.Max(bw, 0.6), barH, color, Rel(start.Add(time.Duration(i)*t.Bucket), t0), a, l)
	}
	// Axis ticks every "nice" step, labelled relative to the trigger.
	step := niceStep(span / 8)
	first := math.Ceil(start.Sub(t0).Seconds()/step) * step
	for s := first; s <= end.Sub(t0).Seconds(); s += step {
		px := x(t0.Add(time.Duration(s * float64(time.Second))))
		label := fmt.Sprintf("%+gs", s)
		if math.Abs(s) < step/1e6 {
			label = "0"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#9aa3ad"/><text x="%.1f" y="%d" class="ax">%s</text>`,
			px, px, barY+barH, barY+barH+4, px, barY+barH+15, label)
	}
	for _, m := range e.Markers {
		px := x(m.At)
		if px < svgLeft || px > svgW-svgRight {
			continue
		}
		color := "#1f4fd1"
		if m.Name != "trigger" {
			color = "#7a3fd1"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="10" y2="%d" stroke="%s" stroke-width="2"/><text x="%.1f" y="9" class="mk" fill="%s">%s</text>`,
			px, px, barY+barH+2, color, px+3, color, html.EscapeString(m.Name))
	}
	for i, sp := range f.Stats.Responders {
		if i == 0 {
			continue
		}
		px := x(sp.First)
		fmt.Fprintf(&b, `<path d="M%.1f %d l-5 -7 h10 z" fill="#333"><title>%s</title></path><text x="%.1f" y="%d" class="rs">%s</text>`,
			px, barY+barH+24, html.EscapeString("answers now from "+sp.Responder.String()), px+6, barY+barH+30, html.EscapeString(short(sp.Responder.String())))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func short(s string) string {
	if len(s) > 40 {
		return s[:37] + "…"
	}
	return s
}

// niceStep rounds a raw step in seconds to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}
