package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Props     []junitProp `xml:"properties>property,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

// JUnit renders JUnit XML: one test suite per report (the environment as
// properties) and one test case per experiment. Fail is a <failure> whose
// message is the reason (the outage summary) and whose text details every
// flow; error is an <error>; not-applicable is <skipped message=reason>; a
// finding passes, with its observations in <system-out>.
func JUnit(w io.Writer, r *Report) error {
	s := junitSuite{Name: "netchaos " + r.Run.Context, Time: secs(r.Run.Finished.Sub(r.Run.Started).Seconds()), Timestamp: stamp(r.Run.Started)}
	v := r.Environment
	for _, kv := range [][2]string{{"run", r.Run.ID}, {"tool", r.Run.Tool}, {"provider", v.Provider}, {"kubernetes", v.KubernetesVersion}, {"kube-proxy", v.KubeProxyMode}, {"kube-proxy-version", v.KubeProxyVersion}, {"cni", v.CNI}, {"node-os", v.NodeOS}} {
		if kv[1] != "" {
			s.Props = append(s.Props, junitProp{Name: kv[0], Value: kv[1]})
		}
	}
	for _, e := range r.Experiments {
		c := junitCase{Name: orName(e), Classname: "netchaos." + e.Name, Time: secs(e.Finished.Sub(e.Started).Seconds())}
		switch e.Verdict {
		case Vulnerable:
			c.Failure = &junitMessage{Message: e.Reason, Text: observations(e)}
			s.Failures++
		case Errored:
			c.Error = &junitMessage{Message: e.Reason}
			s.Errors++
		case NotApplicable:
			c.Skipped = &junitMessage{Message: e.Reason}
			s.Skipped++
		case Degraded:
			c.SystemOut = &junitText{"degraded: " + e.Reason + "\n" + observations(e)}
		default:
			if o := observations(e); o != "" {
				c.SystemOut = &junitText{o}
			}
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(f float64) string { return fmt.Sprintf("%.3f", max(f, 0)) }

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

// observations is a verdict's detail: each flow's verdict and windows, and
// every expectation that was not met.
func observations(e Experiment) string {
	var b strings.Builder
	for _, f := range e.Flows {
		fmt.Fprintf(&b, "%s (%s): sent %d, lost %d", f.Name, orUnknown(string(f.Verdict)), f.Stats.Sent, f.Stats.Lost)
		for _, w := range f.Windows {
			fmt.Fprintf(&b, "; %s", w.words())
		}
		b.WriteString("\n")
	}
	for _, x := range e.Expectations {
		if x.Deviates() {
			fmt.Fprintf(&b, "%s: observed %s, expected %s\n", x.Case, x.Observed, x.Expected)
		}
	}
	return b.String()
}
