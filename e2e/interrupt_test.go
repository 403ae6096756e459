package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Nothing is left behind: a run interrupted with SIGINT cleans up after
// itself; a run killed with SIGKILL leaves objects that `netchaos cleanup`
// removes. Either way, nothing carrying the suite's labels remains.
var _ = Describe("interrupted runs leave nothing behind", Serial, Label("interrupt", "safety"), func() {
	var bin string
	BeforeEach(func(ctx context.Context) {
		bin = filepath.Join(GinkgoT().TempDir(), "netchaos")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/netchaos/netchaos/tools/netchaos").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
	})

	DescribeTable("signal during the observation window",
		func(ctx context.Context, sig syscall.Signal, after time.Duration) {
			cmd := exec.Command(bin, "run", "--kubeconfig", os.Getenv("KUBECONFIG"), "--context", env.Context,
				"--image", env.Image, "--experiments", "hostport-to-hostnetwork", "--report-dir", GinkgoT().TempDir())
			cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
			Expect(cmd.Start()).To(Succeed())
			By("waiting until the run has created its objects")
			Eventually(ctx, func(ctx context.Context) []string {
				left, _ := env.Leftovers(ctx, "")
				return left
			}).WithTimeout(2 * time.Minute).WithPolling(time.Second).ShouldNot(BeEmpty())
			time.Sleep(after)
			By("sending " + sig.String())
			Expect(cmd.Process.Signal(sig)).To(Succeed())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			Eventually(done).WithTimeout(4 * time.Minute).Should(Receive())
			if sig == syscall.SIGKILL {
				left, err := env.Leftovers(ctx, "")
				Expect(err).NotTo(HaveOccurred())
				Expect(left).NotTo(BeEmpty(), "SIGKILL leaves the run's objects until cleanup or the janitor")
				By("running netchaos cleanup")
				out, err := exec.CommandContext(ctx, bin, "cleanup", "--kubeconfig", os.Getenv("KUBECONFIG"), "--context", env.Context).CombinedOutput()
				Expect(err).NotTo(HaveOccurred(), string(out))
				GinkgoWriter.Printf("%s", out)
			}
			By("listing everything that carries the suite's labels")
			Eventually(ctx, func(ctx context.Context) ([]string, error) {
				return env.Leftovers(ctx, "")
			}).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(BeEmpty())
		},
		Entry("SIGINT while setting up", syscall.SIGINT, 0*time.Second),
		Entry("SIGINT after the trigger", syscall.SIGINT, 25*time.Second),
		Entry("SIGKILL after the trigger, then cleanup", syscall.SIGKILL, 25*time.Second),
	)
})
