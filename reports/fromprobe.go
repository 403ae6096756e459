package reports

import "github.com/netchaos/netchaos/probe"

// StatsOf is the report's record of a flow the probe package analysed:
// every field copied, nothing judged.
func StatsOf(st probe.FlowStats) Stats {
	s := Stats{Flow: st.Flow, Mode: string(st.Mode), WindowStart: st.WindowStart, WindowEnd: st.WindowEnd,
		Sent: st.Sent, Answered: st.Answered, Lost: st.Lost, LongestGap: st.LongestGap, Recovered: st.Recovered}
	for _, o := range st.Outages {
		x := Outage{Start: o.Start, End: o.End, Open: o.Open, Lost: o.Lost}
		if o.Results != nil {
			x.Results = make(map[string]int, len(o.Results))
			for r, n := range o.Results {
				x.Results[string(r)] = n
			}
		}
		s.Outages = append(s.Outages, x)
	}
	for _, r := range st.Recoveries {
		s.Recoveries = append(s.Recoveries, Recovery{Marker: r.Marker, After: r.After, Outage: r.Outage, Never: r.Never})
	}
	for _, sp := range st.Responders {
		id := Identity{Pod: sp.Responder.Pod, IP: sp.Responder.IP, Node: sp.Responder.Node}
		s.Responders = append(s.Responders, ResponderSpan{Responder: id, SeenSource: sp.SeenSource, First: sp.First, Last: sp.Last, Answers: sp.Answers})
	}
	return s
}

// MarkersOf is the report's record of a run's markers.
func MarkersOf(ms []probe.Marker) []Marker {
	var out []Marker
	for _, m := range ms {
		out = append(out, Marker{Name: m.Name, At: m.At, Event: m.Event})
	}
	return out
}
