// Package e2e holds the Ginkgo specs that run netchaos experiments on a real
// cluster: the kind cluster from kind-config.yaml (make e2e) or any cluster
// named by KUBECONFIG and NETCHAOS_CONTEXT. Specs are thin: the experiments
// live in the library; specs run them and add their results to the run's
// resilience report.
package e2e

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/catalog"
)

var (
	env       *experiments.Env
	resultsMu sync.Mutex
	results   []experiments.Result
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "netchaos e2e")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	kubeconfig, kctx := os.Getenv("KUBECONFIG"), os.Getenv("NETCHAOS_CONTEXT")
	if kubeconfig == "" || kctx == "" {
		Fail("set KUBECONFIG and NETCHAOS_CONTEXT to name the cluster under test explicitly")
	}
	var err error
	env, err = experiments.NewEnv(experiments.Options{
		Kubeconfig: kubeconfig, Context: kctx, Image: os.Getenv("NETCHAOS_IMAGE"),
		Log: func(format string, args ...any) {
			fmt.Fprintf(GinkgoWriter, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
		},
	})
	Expect(err).NotTo(HaveOccurred())
	env.Cluster, err = env.Detect(ctx)
	Expect(err).NotTo(HaveOccurred())
	c := env.Cluster
	By(fmt.Sprintf("cluster %s: %s, kube-proxy %s, CNI %s, %d nodes, %s", kctx, c.KubernetesVersion, c.KubeProxyMode, c.CNI, len(c.Nodes), c.NodeOS))
})

var _ = AfterSuite(func(ctx SpecContext) {
	removeCLI()
	if env == nil {
		return
	}
	dir := os.Getenv("NETCHAOS_REPORT_DIR")
	if dir == "" {
		dir = "_out/report"
	}
	resultsMu.Lock()
	defer resultsMu.Unlock()
	Expect(writeReport(dir, env, results)).To(Succeed())
	By("report written to " + dir)
	Expect(env.WaitNamespaces(context.WithoutCancel(ctx))).To(Succeed(), "the run's namespaces did not go")
	left, err := env.Leftovers(context.WithoutCancel(ctx), env.RunID)
	Expect(err).NotTo(HaveOccurred())
	Expect(left).To(BeEmpty(), "objects of this run left behind")
	nodes, err := env.NodeLeftovers(context.WithoutCancel(ctx))
	Expect(err).NotTo(HaveOccurred())
	Expect(nodes).To(BeEmpty(), "node changes not undone")
})

// record adds a result to the run's report.
func record(r experiments.Result) {
	resultsMu.Lock()
	results = append(results, r)
	resultsMu.Unlock()
}

// run executes one catalog experiment and checks that it ran and was
// compared: a deviation from the expected table is a finding in the report,
// not a failed spec.
func run(ctx context.Context, e catalog.Entry, w experiments.Windows) experiments.Result {
	res := e.Run(ctx, env, w)
	record(res)
	if !res.Applicable {
		Skip("not applicable: " + res.Reason)
	}
	Expect(res.Err).NotTo(HaveOccurred())
	Expect(res.Flows).NotTo(BeEmpty())
	for _, f := range res.Flows {
		Expect(f.Stats.Sent).To(BeNumerically(">", 0))
		Expect(f.Checks).NotTo(BeEmpty())
		Expect(f.Checks[0].Expect).NotTo(BeNil(), "flow %s has no expectation after the trigger for this environment", f.Name)
		for _, c := range f.Checks {
			AddReportEntry(f.Name+" after "+c.Marker, fmt.Sprintf("%s; %s", c.Observed, expectation(c)))
		}
	}
	return res
}

func expectation(c experiments.Check) string {
	if c.Expect == nil {
		return "no expectation"
	}
	if c.Match {
		return "as expected (" + c.Expect.Want() + ")"
	}
	return "FINDING: expected " + c.Expect.Want()
}
