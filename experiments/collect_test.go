package experiments

import (
	"context"
	"strings"
	"testing"

	"github.com/netchaos/netchaos/probe"
)

// Two of the runner's own flows with one name would be measured as one
// (external/<name>): the second is refused when it is registered.
func TestRunLocalRejectsDuplicateFlowName(t *testing.T) {
	c := NewCollector(nil, t.Logf)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // register only; send nothing
	o := probe.Options{}
	if err := c.RunLocal(ctx, probe.Flow{Name: "pinned", Mode: probe.UDPPinned, Target: "127.0.0.1:9", LocalPort: 0}, o); err != nil {
		t.Fatalf("first pinned: %v", err)
	}
	if err := c.RunLocal(ctx, probe.Flow{Name: "fresh", Mode: probe.UDPFresh, Target: "127.0.0.1:9"}, o); err != nil {
		t.Fatalf("fresh: %v", err)
	}
	err := c.RunLocal(ctx, probe.Flow{Name: "pinned", Mode: probe.UDPFresh, Target: "127.0.0.1:10"}, o)
	if err == nil || !strings.Contains(err.Error(), `external flow name "pinned" given twice`) {
		t.Fatalf("second pinned: err = %v, want a duplicate-name error", err)
	}
	c.Wait()
}
