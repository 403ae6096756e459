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
		// The LoadBalancer variant runs in `netchaos run` (its IP can land
		// after the endpoints, README); the ClusterIP variant without
		// kube-proxy's cleanup in the controls table. On kube-proxy as
		// released, a verdict here is reported, not asserted: its cleanup
		// missed one node's fixed-source entries in 9 of 29 runs (README).
		Entry("NodePort deleted and re-created", udplbrecreate.NodePort),
		Entry("ClusterIP deleted and re-created", udplbrecreate.ClusterIP),
		Entry("backends scaled to zero and back", udplbrecreate.ScaleToZero),
	)
})
