package e2e

import (
	"context"

	. "github.com/onsi/ginkgo/v2"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/chaosmesh"
)

var _ = Describe("Generic faults through Chaos Mesh", Serial, Label("chaosmesh", "experiment"), func() {
	DescribeTable("probe flows across a Chaos Mesh fault",
		func(ctx context.Context, x experiments.Experiment) {
			run(ctx, x, experiments.DefaultWindows)
		},
		Entry("NetworkChaos partition between clients and the echo server", chaosmesh.NewPartition()),
		Entry("NetworkChaos 100 % loss on the same path", chaosmesh.NewLoss()),
		Entry("NetworkChaos 1 s delay on the same path", chaosmesh.NewDelay()),
		Entry("PodChaos pod-kill of the echo server", chaosmesh.NewPodKill()),
		Entry("PodChaos pod-kill of the CNI agent on the echo server's node", chaosmesh.NewCNIAgentKill()),
	)
})
