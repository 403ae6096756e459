package e2e

import (
	"context"
	"os"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/netchaos/netchaos/experiments/controls"
)

// The suite is only as good as the failures it is shown to catch: every
// positive control (a lab profile where the documented outage happens) must
// come out vulnerable with the mechanism's evidence, and its fixed twin
// resilient. The table is experiments/controls.Table, run in the order that
// switches the lab least (InSwitchOrder): each control switches the lab to
// its own profile, and the lab goes back to default once, after the last
// (or an interrupt), not after each: a kube-proxy switch is a rollout.
// `make controls` repeats them to measure how stable the verdicts are.
var _ = Describe("Positive controls and fixed twins", Serial, Ordered, ContinueOnFailure, Label("controls", "experiment"), func() {
	var lab controls.Switcher
	BeforeAll(func() {
		script := os.Getenv("NETCHAOS_LAB")
		kctx := os.Getenv("NETCHAOS_CONTEXT")
		if script == "" || !strings.HasPrefix(kctx, "kind-") {
			Skip("controls need the kind lab: NETCHAOS_LAB (tools/cluster/lab.sh) and a kind-<cluster> NETCHAOS_CONTEXT (make e2e sets both)")
		}
		lab = controls.Script(script, strings.TrimPrefix(kctx, "kind-"), os.Getenv("KUBECONFIG"), GinkgoWriter)
	})
	AfterAll(func(ctx context.Context) {
		if lab == nil {
			return
		}
		Expect(lab(ctx, "default")).To(Succeed())
		// Run detected the cluster in the last control's profile: the specs
		// after these must not report (or expect) that profile.
		var err error
		env.Cluster, err = env.Detect(ctx)
		Expect(err).NotTo(HaveOccurred())
	})
	entries := []TableEntry{}
	for _, c := range controls.InSwitchOrder() {
		if !c.OwnSpec {
			entries = append(entries, Entry(c.Name, c))
		}
	}
	DescribeTable("the suite's verdict in each lab profile",
		func(ctx context.Context, c controls.Control) {
			res, x, err := c.Run(ctx, env, lab)
			if res.Name != "" { // a failed lab switch runs nothing to report
				record(res)
			}
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry(c.Name, controls.Summary(c, x))
			Expect(c.Check(x)).To(BeEmpty(), "%s: %s", x.Verdict, x.Reason)
		},
		entries,
	)
})
