package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// JUnit renders one test suite per report and one test case per experiment:
// fail is a failure, error an error, not-applicable skipped; a finding passes
// with its observations in system-out.
func JUnit(w io.Writer, r *Report) error {
	s := junitSuite{Name: "netchaos " + r.Run.Context, Time: secs(r.Run.Finished.Sub(r.Run.Started).Seconds())}
	for _, e := range r.Experiments {
		c := junitCase{Name: e.Title, Classname: "netchaos." + e.Name, Time: secs(e.Finished.Sub(e.Started).Seconds()), SystemOut: observations(e)}
		switch e.Verdict {
		case Fail:
			c.Failure = &junitMessage{Message: e.Reason, Text: c.SystemOut}
			s.Failures++
		case Errored:
			c.Error = &junitMessage{Message: e.Reason}
			s.Errors++
		case NotApplicable:
			c.Skipped = &junitMessage{Message: "not applicable: " + e.Reason}
			s.Skipped++
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

func secs(f float64) string { return fmt.Sprintf("%.3f", f) }

// observations lists each flow's outcome after the trigger and every
// mismatching cell, one per line.
func observations(e Experiment) string {
	var b strings.Builder
	for _, f := range e.Flows {
		for _, c := range f.Checks {
			state := "as expected"
			if c.Expected == "" {
				state = "no expectation"
			} else if !c.Match {
				state = "FINDING, expected " + c.Expected
			}
			fmt.Fprintf(&b, "%s after %s: %s (%s)\n", f.Name, c.Marker, c.Observed, state)
		}
	}
	for _, c := range e.Cells {
		if !c.Match {
			fmt.Fprintf(&b, "%s: observed %s, expected %s\n", c.Case, c.Observed, c.Expected)
		}
	}
	return b.String()
}
