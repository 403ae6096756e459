package e2e

import (
	"context"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/catalog"
	"github.com/netchaos/netchaos/experiments/trafficpolicy"
)

var _ = Describe("T4 externalTrafficPolicy / LB IP reachability matrix", Serial, Label("t4", "policy", "experiment"), func() {
	It("measures every client x target x policy x protocol cell, compares it with the expected matrix and judges it", func(ctx context.Context) {
		x, err := catalog.Find(trafficpolicy.Name)
		Expect(err).NotTo(HaveOccurred())
		res := x.Run(ctx, env, experiments.DefaultWindows)
		record(res)
		if !res.Applicable {
			Skip("not applicable: " + res.Reason)
		}
		Expect(res.Err).NotTo(HaveOccurred())
		// 4 in-cluster placements x targets x policies x protocols, plus the external host's row.
		inCluster := 4 * len(trafficpolicy.Targets) * len(trafficpolicy.Policies) * len(trafficpolicy.Protocols)
		Expect(len(res.Cells)).To(BeNumerically(">=", inCluster))
		measured := map[string]string{}
		for _, c := range res.Cells {
			measured[c.Case] = c.Observed
			note := "as expected"
			switch {
			case c.Expected == "":
				note = "no expectation"
			case !c.Match:
				note = "DIFFERS from the expected " + c.Expected
			}
			if c.Verdict != "" {
				note += "; " + strings.ToUpper(c.Verdict)
			}
			AddReportEntry(c.Case, c.Observed+"; "+note)
		}
		if env.Cluster.Provider == "kind" {
			// The seed's cells and the ipMode Proxy mitigation are measured,
			// not left out: the node-local listener and the test load
			// balancer are part of the experiment on kind.
			for _, k := range []string{
				"pod on node without endpoint → LB IP closed port, policy Cluster, UDP",
				"hostNetwork on node without endpoint → LB IP, policy Local",
				"pod on node with endpoint → " + trafficpolicy.TargetListener + ", policy Cluster",
				"pod on node without endpoint → " + trafficpolicy.TargetProxyLB + ", policy Local",
				"hostNetwork on node without endpoint → " + trafficpolicy.TargetProxyClosed + ", policy Local, UDP",
			} {
				Expect(measured).To(HaveKey(k))
				Expect(measured[k]).NotTo(HavePrefix(trafficpolicy.NA), k)
			}
		}
	})
})
