package e2e

import (
	"context"

	. "github.com/onsi/ginkgo/v2"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/hostnetworkflip"
)

var _ = Describe("T1 DaemonSet hostPort/hostNetwork flip", Serial, Label("t1", "conntrack", "experiment"), func() {
	DescribeTable("long-lived UDP clients across the flip",
		func(ctx context.Context, dir hostnetworkflip.Direction) {
			run(ctx, hostnetworkflip.New(dir), experiments.DefaultWindows)
		},
		Entry("hostPort to hostNetwork", hostnetworkflip.ToHostNetwork),
		Entry("hostNetwork to hostPort", hostnetworkflip.ToHostPort),
	)
})
