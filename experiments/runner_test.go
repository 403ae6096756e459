package experiments

import (
	"fmt"
	"testing"
)

func TestNotApplicableReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: node w1 has no systemd-networkd", ErrNotApplicable), "node w1 has no systemd-networkd"},
		{fmt.Errorf("setup: %w: no CRD", ErrNotApplicable), "setup: not applicable: no CRD"},
		{ErrNotApplicable, "not applicable"},
	} {
		if got := notApplicableReason(tc.err); got != tc.want {
			t.Errorf("notApplicableReason(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
