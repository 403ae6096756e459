package e2e

import (
	"context"

	. "github.com/onsi/ginkgo/v2"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/udplbrecreate"
)

var _ = Describe("T2 UDP Service disruption with a fixed-source flow", Serial, Label("t2", "conntrack", "experiment"), func() {
	DescribeTable("fixed-source UDP flow across the disruption",
		func(ctx context.Context, v udplbrecreate.Variant) {
			run(ctx, udplbrecreate.New(v), experiments.DefaultWindows)
		},
		// The ClusterIP variant runs in the controls table (with and without
		// kube-proxy's conntrack cleanup); the LoadBalancer variant in
		// `netchaos run` (its IP can land after the endpoints, README).
		Entry("NodePort deleted and re-created", udplbrecreate.NodePort),
		Entry("backends scaled to zero and back", udplbrecreate.ScaleToZero),
	)
})
