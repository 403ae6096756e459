package reports

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/netchaos/netchaos/experiments/probe"
)

// SVG geometry of a flow timeline (user units; the SVG scales to the page).
const (
	svgW, svgL, svgR = 1200.0, 14.0, 14.0
	rowMarker        = 13 // marker labels baseline
	rowRecovery      = 29 // recovery label baseline
	barTop, barH     = 36, 38
	axisLabel        = barTop + barH + 16
	tickTop          = barTop + barH + 22
	maxTicks         = 12 // more responder changes than this are summarised
)

// SVG colours, shared with the page's legend.
const (
	colAnswered = "#1f9d61"
	colLost     = "#d93f3f"
	colMixed    = "#f0b44c"
	colEmpty    = "#e9edf2"
	colTrigger  = "#1d4ed8"
	colMarker   = "#7b3fb0"
)

// timelineSVG draws one flow: answered/lost bars per timeline bucket (or the
// outages when the flow has no timeline), a vertical line per marker and at
// the recovery after the trigger, ticks where the responder changed, and a
// time axis relative to the trigger.
//
// When the outages after the trigger are too short to see at that scale (a
// 120 ms outage in a 60 s window is 2 pixels), a second, zoomed timeline
// follows, drawn from the exact outage edges.
func timelineSVG(e Experiment, f Flow) template.HTML {
	st, tl := f.Stats, f.Timeline
	start, end := st.WindowStart, st.WindowEnd
	if len(tl.Buckets) > 0 {
		if start.IsZero() || tl.Start.Before(start) {
			start = tl.Start
		}
		if te := tl.End(); end.IsZero() || te.After(end) {
			end = te
		}
	}
	if !end.After(start) {
		return template.HTML(`<p class="muted">no samples</p>`)
	}
	out := drawTimeline(e, f, start, end, true)
	if zs, ze, ok := zoom(e, f, start, end); ok {
		out += `<p class="zoom">zoom: ` + template.HTML(html.EscapeString(Rel(zs, e.triggerAt())+" to "+Rel(ze, e.triggerAt()))) + `</p>` + drawTimeline(e, f, zs, ze, false)
	}
	return out
}

// zoom picks the range around the outages after the trigger when they are
// all closed and shorter than 2 % of the window: from half a second (or
// their length) before the first to as long after the last.
func zoom(e Experiment, f Flow, start, end time.Time) (time.Time, time.Time, bool) {
	t0 := e.triggerAt()
	var first, last time.Time
	for _, o := range f.Stats.Outages {
		if o.End.Before(t0) {
			continue
		}
		if o.Open {
			return first, last, false
		}
		if first.IsZero() {
			first = o.Start
		}
		last = o.End
	}
	if first.IsZero() || last.Sub(first)*50 > end.Sub(start) {
		return first, last, false
	}
	pad := max(500*time.Millisecond, last.Sub(first))
	zs, ze := first.Add(-pad), last.Add(pad)
	if t0.After(start) && t0.Before(zs) && first.Sub(t0) < 4*pad {
		zs = t0.Add(-pad / 2) // keep the trigger in view when it is close
	}
	if zs.Before(start) {
		zs = start
	}
	if ze.After(end) {
		ze = end
	}
	return zs, ze, true
}

// drawTimeline draws one flow's timeline from start to end: from the
// timeline buckets when buckets is set and the flow has them, else from the
// exact outage edges.
func drawTimeline(e Experiment, f Flow, start, end time.Time, buckets bool) template.HTML {
	st, tl := f.Stats, f.Timeline
	t0 := e.triggerAt()
	span := end.Sub(start).Seconds()
	plot := svgW - svgL - svgR
	x := func(t time.Time) float64 { return svgL + plot*t.Sub(start).Seconds()/span }
	inside := func(px float64) bool { return px >= svgL-0.5 && px <= svgW-svgR+0.5 }

	changes := len(st.Responders) - 1
	h := tickTop + 4
	if changes > 0 {
		h = tickTop + 32
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="tl" viewBox="0 0 %.0f %d" role="img" aria-label="timeline of %s">`, svgW, h, html.EscapeString(f.Name))
	fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`, svgL, barTop, plot, barH, colEmpty)

	// Bars: runs of equal state merged into one rectangle; lost runs at
	// least 2 units wide so a short outage stays visible.
	bar := func(x0, x1 float64, col, title string) {
		if col == colLost && x1-x0 < 2 {
			c := (x0 + x1) / 2
			x0, x1 = c-1, c+1
		}
		fmt.Fprintf(&b, `<rect x="%.2f" y="%d" width="%.2f" height="%d" fill="%s"><title>%s</title></rect>`, x0, barTop, math.Max(x1-x0, 0.5), barH, col, html.EscapeString(title))
	}
	clip := func(t time.Time) time.Time {
		if t.Before(start) {
			return start
		}
		if t.After(end) {
			return end
		}
		return t
	}
	if n := len(tl.Buckets); buckets && n > 0 && tl.Bucket > 0 {
		state := func(i int) string {
			a, l := tl.Buckets[i].Answered, tl.Buckets[i].Lost
			switch {
			case a > 0 && l == 0:
				return colAnswered
			case a == 0 && l > 0:
				return colLost
			case a > 0:
				return colMixed
			}
			return ""
		}
		from := tl.Start
		for i := 0; i < n; {
			j, col := i, state(i)
			a, l := 0, 0
			to := from
			for j < n && state(j) == col && (col != colMixed || j == i) {
				a, l = a+tl.Buckets[j].Answered, l+tl.Buckets[j].Lost
				to = to.Add(time.Duration(tl.Buckets[j].Width) * tl.Bucket)
				j++
			}
			if col != "" {
				bar(x(from), x(to), col, fmt.Sprintf("%s to %s: %d answered, %d lost", Rel(from, t0), Rel(to, t0), a, l))
			}
			from, i = to, j
		}
	} else {
		bar(x(clip(st.WindowStart)), x(clip(st.WindowEnd)), colAnswered, "answered")
		for _, o := range st.Outages {
			if o.End.Before(start) || o.Start.After(end) {
				continue
			}
			bar(x(clip(o.Start)), x(clip(o.End)), colLost, fmt.Sprintf("%s: %d lost", Rel(o.Start, t0), o.Lost))
		}
	}

	// Axis, labelled relative to the trigger.
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#98a2b3"/>`, svgL, svgW-svgR, barTop+barH, barTop+barH)
	step := niceStep(span / 10)
	for s := math.Ceil(start.Sub(t0).Seconds()/step) * step; s <= end.Sub(t0).Seconds()+1e-9; s += step {
		px := x(t0.Add(time.Duration(math.Round(s * 1e9))))
		anchor := "middle"
		switch {
		case px < svgL+20:
			anchor = "start"
		case px > svgW-svgR-20:
			anchor = "end"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#98a2b3"/><text x="%.1f" y="%d" font-size="11" fill="#667085" text-anchor="%s">%s</text>`,
			px, px, barTop+barH, barTop+barH+4, px, axisLabel, anchor, tickLabel(s, step))
	}

	// Markers and the recovery after the trigger.
	// Vertical lines with labels on two rows above the bars, each label on
	// the first row where it does not run into the previous one.
	type mark struct {
		px       float64
		col      string
		dash     string
		text     string
		weight   string
		width    float64
		rightEnd bool
	}
	var marks []mark
	trig, hasTrig := e.trigger()
	for _, m := range e.Markers {
		if px := x(m.At); inside(px) {
			mk := mark{px: px, col: colMarker, dash: ` stroke-dasharray="5 3"`, text: m.Name + " " + Rel(m.At, t0), weight: "650"}
			if hasTrig && m == trig {
				mk.col, mk.dash = colTrigger, ""
			}
			marks = append(marks, mk)
		}
	}
	var rowEnd [2]float64
	if hasTrig {
		for _, r := range st.Recoveries {
			if r.Marker != trig.Name {
				continue
			}
			switch {
			case r.Never:
				text := never(e, f) + " ▸"
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" font-weight="650" fill="%s" text-anchor="end">%s</text>`, svgW-svgR, rowRecovery, colLost, html.EscapeString(text))
				rowEnd[1] = -(svgW - svgR - 7*float64(len([]rune(text))))
			case r.Outage > 0:
				at := trig.At.Add(r.After)
				if px := x(at); inside(px) {
					marks = append(marks, mark{px: px, col: colAnswered, dash: ` stroke-dasharray="3 2"`, text: "recovered " + Rel(at, t0) + " (outage " + Dur(r.Outage) + ")", weight: "500"})
				}
			}
			break
		}
	}
	sort.SliceStable(marks, func(i, j int) bool { return marks[i].px < marks[j].px })
	// A negative rowEnd[1] is the left edge of the right-aligned "never"
	// label: labels on row 1 must end before it.
	neverLeft := svgW
	if rowEnd[1] < 0 {
		neverLeft, rowEnd[1] = -rowEnd[1], 0
	}
	for _, m := range marks {
		m.width = 6.9 * float64(len([]rune(m.text)))
		x0, x1, anchor, tx := m.px, m.px+4+m.width, "start", m.px+4
		if x1 > svgW-svgR {
			x0, x1, anchor, tx = m.px-4-m.width, m.px, "end", m.px-4
		}
		row := 0
		if x0 < rowEnd[0] {
			row = 1
			if x0 < rowEnd[1] || x1 > neverLeft {
				row = 0 // both taken: overlap on the first row rather than hide
			}
		}
		rowEnd[row] = x1 + 10
		y := []int{rowMarker, rowRecovery}[row]
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`, m.px, m.px, y-10, barTop+barH, m.col, m.dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" font-weight="%s" fill="%s" text-anchor="%s">%s</text>`, tx, y, m.weight, m.col, anchor, html.EscapeString(m.text))
	}

	// Responder changes: a tick and the new responder's name, on two
	// alternating rows when labels would collide.
	if changes > 0 && changes <= maxTicks {
		var rowEnd [2]float64
		for i, sp := range st.Responders[1:] {
			px := x(sp.First)
			if !inside(px) {
				continue
			}
			text := "→ " + responderLabel(sp, st.Responders[i].SeenSource)
			w := 6.3 * float64(len([]rune(text)))
			anchor, x0 := "start", px-3
			if px+w > svgW-svgR {
				anchor, x0 = "end", px-w
			}
			row := 0
			if x0 < rowEnd[0] {
				row = 1
			}
			rowEnd[row] = x0 + w + 8
			y := tickTop + 10 + 13*row
			fmt.Fprintf(&b, `<path d="M%.1f %d l-4 7 h8 z" fill="#344054"/><text x="%.1f" y="%d" font-size="11" fill="#344054" text-anchor="%s">%s<title>%s</title></text>`,
				px, barTop+barH+1, px+map[string]float64{"start": -3, "end": 3}[anchor], y, anchor, html.EscapeString(text), html.EscapeString("from "+Rel(sp.First, t0)+": "+sp.Responder.String()))
		}
	} else if changes > maxTicks {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" fill="#344054">responders alternated: %d changes (see below)</text>`, svgL, tickTop+10, changes)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// responderLabel is a short name for a responder span, with the client's
// address as the responder saw it when that changed from prevSeen.
func responderLabel(sp probe.ResponderSpan, prevSeen string) string {
	s := sp.Responder.String()
	if s == "" {
		s = "unidentified"
	}
	if sp.SeenSource != "" && sp.SeenSource != prevSeen {
		s += ", client seen as " + sp.SeenSource
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
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
