package main

import (
	"bytes"
	"strings"
	"testing"
)

// Bad input is one line on stderr and exit code 2, never a stack trace.
func TestBadInputIsOneLineExit2(t *testing.T) {
	cases := [][]string{
		{},
		{"frobnicate"},
		{"probe"},
		{"probe", "--bogus"},
		{"probe", "--flow", "x"},
		{"probe", "--flow", "a/udp-sticky/1.2.3.4:5"},
		{"probe", "--flow", "a/udp-pinned/1.2.3.4:5", "--rate", "-1"},
		{"echo"},
		{"janitor", "--namespace", "x", "--at", "tomorrow"},
		{"version", "extra"},
	}
	for _, args := range cases {
		var out, errb bytes.Buffer
		code := run(args, &out, &errb)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
		if len(args) > 0 && strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
			t.Errorf("%q: want one line, got %q", args, errb.String())
		}
		if strings.Contains(errb.String(), "goroutine") {
			t.Errorf("%q: stack trace", args)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "netchaos ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"probe", "-h"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "-flow") {
		t.Fatalf("probe -h: %d %q", code, errb.String())
	}
}
