package e2e

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/networkdrestart"
)

var _ = Describe("T3 systemd-networkd restart", Serial, Label("t3", "node-disruptive", "experiment"), func() {
	It("measures the pod egress outage, then shows the drop-in prevents it", func(ctx context.Context) {
		// No automatic recovery is expected: 20 s shows it; each mitigation gets 10 s.
		run(ctx, networkdrestart.New(), experiments.Windows{Observe: 20 * time.Second, Mitigation: 10 * time.Second})
	})
})
