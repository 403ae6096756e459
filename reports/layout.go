package reports

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Label layout for the HTML timelines. Text is drawn at a fixed CSS size
// and positions along the time axis are fractions of the plot's width, so
// labels are laid out for the narrowest plot the page draws (the chart
// scrolls sideways below it): wider, the gaps between them only grow.
const (
	// plotMinWidth is the narrowest plot in CSS pixels: the plot's width in
	// an 800 px wide window.
	plotMinWidth = 680.0
	// charPx is an upper bound of a character's width at the 12 px label
	// font (marker labels), tickPx at the 11 px one (responder changes).
	charPx, tickPx = 7.0, 6.4
	// labelPad is the room between a label's line and its text, and
	// labelGap between two labels on a row.
	labelPad, labelGap = 4.0, 8.0
	// shortPx is a footnote label's width ("⑫").
	shortPx = 16.0
)

// label is text to place at X (0 to 1 along the plot), with a line from it
// to the bars.
type label struct {
	X    float64
	Text string
	// Small is set for text in the 11 px font.
	Small bool
	// Key is set for the label that must not become a footnote unless
	// nothing else works (the trigger's).
	Key bool
}

// slot is where a label went: its row (0 nearest the bars), its anchor
// ("start": text right of X, "end": left of it), the text drawn (possibly
// cut short with "…"), and its extent in pixels at plotMinWidth. Note is
// set when the text fit on no row and the label was drawn as a footnote
// number instead.
type slot struct {
	Row         int
	Anchor      string
	Text        string
	Note        bool
	Left, Right float64
	// NoLine is set on a footnote number put on a row of its own above
	// all others: its line would cross other labels, so it has none (the
	// marker's line still runs through the bars).
	NoLine bool
}

// extent is where text of width w drawn at px with anchor lies.
func extent(px, w float64, anchor string) (float64, float64) {
	if anchor == "end" {
		return px - labelPad - w, px + 1
	}
	return px - 1, px + labelPad + w
}

func textPx(s string) float64 { return charPx * float64(utf8.RuneCountInString(s)) }

func (l label) px(s string) float64 {
	if l.Small {
		return tickPx * float64(utf8.RuneCountInString(s))
	}
	return textPx(s)
}

// placeLabels lays labels out on rows without overlap: each on a row
// where its text neither runs into another label nor crosses another
// label's line (a line runs from its label down through the rows below
// it) and no label above has its line through it, right or left of its
// line. A label whose text fits on none of maxRows rows becomes a
// footnote number, placed by the same rules, or on a row of its own above
// all others and without a line when it fits nowhere. Text wider than the
// room on either side of X is cut short. Of the placements it tries —
// greedy ones from left to right and from right to left, then, when those
// need footnotes, a bounded search of all placements — it keeps the one
// with the fewest footnotes (the key label's counting ten), then the
// fewest rows. Pure; slots are in the order of ls.
//
// Invariants (tested): no two labels on a row overlap and no line runs
// through a label, at width and so at any wider plot: positions are
// fractions of the width, text has a fixed size, gaps only grow.
func placeLabels(ls []label, width float64, maxRows int) []slot {
	p := &placer{ls: ls, width: width, maxRows: maxRows}
	p.order = make([]int, len(ls))
	for i, l := range ls {
		p.order[i] = i
		px := math.Max(0, math.Min(1, l.X)) * width
		p.px = append(p.px, px)
		p.text = append(p.text, fit(l, px, width))
	}
	sort.SliceStable(p.order, func(a, b int) bool { return ls[p.order[a]].X < ls[p.order[b]].X })
	for _, rightToLeft := range []bool{false, true} {
		order := slices.Clone(p.order)
		if rightToLeft {
			slices.Reverse(order)
		}
		for _, anchorsFirst := range []bool{false, true} {
			if s := p.greedy(order, anchorsFirst); p.best == nil || p.cost(s) < p.cost(p.best) {
				p.best = s
			}
		}
	}
	if notes := p.cost(p.best) - rows(p.best); notes > 0 {
		p.budget = searchBudget
		p.search(0, make([]slot, len(ls)), nil, 0)
	}
	return p.best
}

// searchBudget bounds the placements placeLabels searches.
const searchBudget = 5000

type placer struct {
	ls      []label
	width   float64
	maxRows int
	order   []int // by X
	px      []float64
	text    []string
	best    []slot
	budget  int
}

// cost ranks placements: footnotes first (the key label's most), then
// rows.
func (p *placer) cost(ss []slot) int {
	n := 0
	for i, s := range ss {
		if s.Note {
			n += p.noteCost(i)
		}
	}
	return n + rows(ss)
}

func (p *placer) noteCost(i int) int {
	if p.ls[i].Key {
		return 1000
	}
	return 100
}

// options are label i's slots in order of preference: its text on each
// row, right of its line then left, then a footnote number likewise.
func (p *placer) options(i int, anchorsFirst bool) []slot {
	var out []slot
	for _, note := range []bool{false, true} {
		text, w := p.text[i], p.ls[i].px(p.text[i])
		if note {
			text, w = "", shortPx
		}
		px := p.px[i]
		var anchors []string
		if px+labelPad+w <= p.width {
			anchors = append(anchors, "start")
		}
		if px-labelPad-w >= 0 {
			anchors = append(anchors, "end")
		}
		if len(anchors) == 0 { // cut short: on the wider side
			anchors = []string{"start"}
			if px > p.width-px {
				anchors = []string{"end"}
			}
		}
		var os []slot
		for r := range p.maxRows {
			for _, a := range anchors {
				s := slot{Row: r, Anchor: a, Text: text, Note: note}
				s.Left, s.Right = extent(px, w, a)
				os = append(os, s)
			}
		}
		if anchorsFirst {
			sort.SliceStable(os, func(a, b int) bool { return os[a].Anchor == anchors[0] && os[b].Anchor != anchors[0] })
		}
		out = append(out, os...)
	}
	return out
}

// free reports whether label i fits in slot s, given the labels placed.
func (p *placer) free(i int, s slot, out []slot, placed []int, lines bool) bool {
	for _, k := range placed {
		o, q := out[k], p.px[k]
		switch {
		case o.Row == s.Row:
			if s.Left < o.Right+labelGap && o.Left < s.Right+labelGap {
				return false
			}
		case !lines:
		case o.Row < s.Row: // our line runs through o's row
			if !s.NoLine && p.px[i] > o.Left-1 && p.px[i] < o.Right+1 {
				return false
			}
		default: // o's line runs through our row
			if !o.NoLine && q > s.Left-1 && q < s.Right+1 {
				return false
			}
		}
	}
	return true
}

// fallback puts label i's footnote number on a row of its own above all
// others, without a line.
func (p *placer) fallback(i int, out []slot) slot {
	s := slot{Row: rows(out), Anchor: "start", Note: true, NoLine: true}
	if p.px[i]+labelPad+shortPx > p.width {
		s.Anchor = "end"
	}
	s.Left, s.Right = extent(p.px[i], shortPx, s.Anchor)
	return s
}

// greedy places the labels in order, each in its first free option.
func (p *placer) greedy(order []int, anchorsFirst bool) []slot {
	out := make([]slot, len(p.ls))
	var placed []int
	for _, i := range order {
		s, ok := slot{}, false
		for _, o := range p.options(i, anchorsFirst) {
			if p.free(i, o, out, placed, true) {
				s, ok = o, true
				break
			}
		}
		if !ok {
			s = p.fallback(i, out)
		}
		out[i] = s
		placed = append(placed, i)
	}
	return out
}

// search tries every placement of the labels from the depth-th on (in
// order of X), keeping the cheapest in p.best, until the budget is spent.
func (p *placer) search(depth int, out []slot, placed []int, notes int) {
	if p.budget <= 0 {
		return
	}
	p.budget--
	if notes+rows(out) >= p.cost(p.best) {
		return // no cheaper than the best so far
	}
	if depth == len(p.order) {
		p.best = slices.Clone(out)
		return
	}
	i := p.order[depth]
	try := func(s slot) {
		out[i] = s
		n := notes
		if s.Note {
			n += p.noteCost(i)
		}
		p.search(depth+1, out, append(placed, i), n)
		out[i] = slot{}
	}
	for _, o := range p.options(i, false) {
		if p.free(i, o, out, placed, true) {
			try(o)
		}
	}
	try(p.fallback(i, out))
}

// fit cuts a label's text short with "…" when it is wider than the room
// on both sides of px.
func fit(l label, px, width float64) string {
	room := math.Max(width-px, px) - labelPad
	if l.px(l.Text) <= room {
		return l.Text
	}
	r := []rune(l.Text)
	n := int(room/l.px("x")) - 1
	if n < 1 {
		return "…"
	}
	return string(r[:min(n, len(r))]) + "…"
}

// rows is how many rows the slots take.
func rows(ss []slot) int {
	n := 0
	for _, s := range ss {
		n = max(n, s.Row+1)
	}
	return n
}

// axisStep is the tick step along a span of seconds: the smallest 1, 2 or
// 5 times a power of ten whose labels, laid out at width pixels, leave
// labelGap between each other.
func axisStep(from, to float64, width float64) float64 {
	span := to - from
	if span <= 0 {
		return 1
	}
	for step := niceStep(span / 20); ; step = niceStep(step * 1.01) {
		widest := 0.0
		for _, s := range []float64{from, to} {
			widest = math.Max(widest, textPx(tickLabel(s, step)))
		}
		if step/span*width >= widest+labelGap {
			return step
		}
	}
}

// noteMark is the footnote number n (from 1) as drawn.
func noteMark(n int) string {
	if n >= 1 && n <= 20 {
		return string(rune('①' + n - 1))
	}
	return "[" + strconv.Itoa(n) + "]"
}
