package experiments

import (
	"errors"
	"fmt"
	"testing"
)

func TestNotApplicableError(t *testing.T) {
	err := NotApplicable("node %s has no systemd-networkd", "w1")
	if got, want := err.Error(), "not applicable: node w1 has no systemd-networkd"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var na *NotApplicableError
	if !errors.As(fmt.Errorf("setup: %w", err), &na) || na.Reason != "node w1 has no systemd-networkd" {
		t.Errorf("errors.As through a wrap: %v", na)
	}
}

func TestNotApplicableReason(t *testing.T) {
	for _, tc := range []struct {
		err    error
		want   string
		wantOK bool
	}{
		{NotApplicable("node w1 has no systemd-networkd"), "node w1 has no systemd-networkd", true},
		{NotApplicable("Chaos Mesh is not installed (no %s CRD)", "networkchaos.chaos-mesh.org"), "Chaos Mesh is not installed (no networkchaos.chaos-mesh.org CRD)", true},
		// Wrapping adds context to the error's text, not to the reason.
		{fmt.Errorf("setup: %w", NotApplicable("no CRD")), "no CRD", true},
		{fmt.Errorf("a: %w", fmt.Errorf("b: %w", NotApplicable("no CRD"))), "no CRD", true},
		{errors.Join(errors.New("other"), NotApplicable("no CRD")), "no CRD", true},
		// Text alone does not make an error not applicable.
		{errors.New("not applicable: no CRD"), "", false},
		{nil, "", false},
	} {
		got, ok := notApplicableReason(tc.err)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("notApplicableReason(%v) = %q, %v, want %q, %v", tc.err, got, ok, tc.want, tc.wantOK)
		}
	}
}
