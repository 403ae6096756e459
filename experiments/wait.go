package experiments

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Timeouts are every wait of the library, named in one place.
var Timeouts = struct {
	PodsReady    time.Duration // workload and probe pods Running and Ready
	Rollout      time.Duration // a DaemonSet/Deployment update completes
	SteadyState  time.Duration // every flow answered before injecting
	LoadBalancer time.Duration // a LoadBalancer Service gets its address
	Delete       time.Duration // an object or namespace is gone
	Exec         time.Duration // one command in a node agent
}{
	PodsReady:    3 * time.Minute,
	Rollout:      3 * time.Minute,
	SteadyState:  60 * time.Second,
	LoadBalancer: 2 * time.Minute,
	Delete:       2 * time.Minute,
	Exec:         30 * time.Second,
}

// poll checks cond every 250 ms until it holds, errors, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	return wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, cond)
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
