package e2e

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/netchaos/netchaos/experiments/trafficpolicy"
)

var _ = Describe("T4 externalTrafficPolicy / LB IP reachability matrix", Serial, Label("t4", "policy", "experiment"), func() {
	It("measures every client x target x policy cell and compares it with the expected matrix", func(ctx context.Context) {
		res := trafficpolicy.Experiment(ctx, env)
		record(res)
		if !res.Applicable {
			Skip("not applicable: " + res.Reason)
		}
		Expect(res.Err).NotTo(HaveOccurred())
		// 4 in-cluster placements x 5 targets x 2 policies, plus the external host's row.
		Expect(len(res.Cells)).To(BeNumerically(">=", 40))
		for _, c := range res.Cells {
			note := "as expected"
			if !c.Match {
				note = "FINDING: expected " + c.Expected
			}
			AddReportEntry(c.Case, c.Observed+"; "+note)
		}
	})
})
