package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Nothing is left behind: a run interrupted with SIGINT at any phase cleans
// up after itself; a run killed with SIGKILL leaves objects (and node
// changes) that `netchaos cleanup` removes. Either way, nothing carrying the
// suite's labels remains, and no node keeps a change netchaos made.
var _ = Describe("interrupted runs leave nothing behind", Serial, Label("interrupt", "safety"), func() {
	var bin string
	BeforeEach(func(ctx context.Context) {
		bin = netchaosCLI(ctx)
	})

	DescribeTable("signal at a phase of the run",
		func(ctx context.Context, experiment, phase string, sig syscall.Signal) {
			cmd := exec.Command(bin, "run", "--kubeconfig", os.Getenv("KUBECONFIG"), "--context", env.Context,
				"--image", env.Image, "--experiments", experiment, "--observe", "15s", "--allow-node-disruption",
				"--report-dir", GinkgoT().TempDir())
			stderr, err := cmd.StderrPipe()
			Expect(err).NotTo(HaveOccurred())
			cmd.Stdout = GinkgoWriter
			Expect(cmd.Start()).To(Succeed())
			reached := watchFor(stderr, "] "+phase)

			By("waiting for the run to reach " + phase)
			Eventually(ctx, reached).WithTimeout(4 * time.Minute).Should(BeClosed())
			By("sending " + sig.String())
			Expect(cmd.Process.Signal(sig)).To(Succeed())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var runErr error
			Eventually(ctx, done).WithTimeout(4 * time.Minute).Should(Receive(&runErr))
			if sig == syscall.SIGINT {
				Expect(runErr).To(HaveOccurred())
				Expect(runErr.(*exec.ExitError).ExitCode()).To(Equal(130), "an interrupted run exits 130")
			} else {
				left, err := env.Leftovers(ctx, "")
				Expect(err).NotTo(HaveOccurred())
				Expect(left).NotTo(BeEmpty(), "SIGKILL leaves the run's objects until cleanup or the janitor")
				By("running netchaos cleanup")
				out, err := exec.CommandContext(ctx, bin, "cleanup", "--kubeconfig", os.Getenv("KUBECONFIG"), "--context", env.Context, "--image", env.Image).CombinedOutput()
				GinkgoWriter.Printf("%s", out)
				Expect(err).NotTo(HaveOccurred(), string(out))
			}
			By("listing everything that carries the suite's labels")
			Eventually(ctx, func(ctx context.Context) ([]string, error) {
				return env.Leftovers(ctx, "")
			}).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(BeEmpty())
			By("listing node changes not undone (restore scripts, netchaos systemd units)")
			Expect(env.NodeLeftovers(ctx)).To(BeEmpty())
		},
		Entry("T1, SIGINT while deploying the node agent", "hostport-to-hostnetwork", "deploy node agent", syscall.SIGINT),
		Entry("T1, SIGINT while waiting for steady state", "hostport-to-hostnetwork", "wait for steady state", syscall.SIGINT),
		Entry("T1, SIGINT at the trigger", "hostport-to-hostnetwork", "inject:", syscall.SIGINT),
		Entry("T1, SIGINT during a mitigation", "hostport-to-hostnetwork", "mitigate:", syscall.SIGINT),
		Entry("T1, SIGKILL at the trigger, then cleanup", "hostport-to-hostnetwork", "inject:", syscall.SIGKILL),
		Entry("T3 (node changes), SIGINT during the drop-in mitigation", "networkd-restart", "mitigate: drop-in", syscall.SIGINT),
		Entry("T3 (node changes), SIGKILL at the trigger, then cleanup", "networkd-restart", "inject:", syscall.SIGKILL),
	)
})

// watchFor copies r to the spec's output and closes the returned channel
// when a line contains s.
func watchFor(r io.Reader, s string) chan struct{} {
	seen := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(r)
		found := false
		for sc.Scan() {
			GinkgoWriter.Println(sc.Text())
			if !found && strings.Contains(sc.Text(), s) {
				found = true
				close(seen)
			}
		}
	}()
	return seen
}
