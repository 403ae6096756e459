package kube

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Timeouts are the waits on the cluster, named in one place.
var Timeouts = struct {
	PodsReady    time.Duration // workload and probe pods Running and Ready
	Rollout      time.Duration // a DaemonSet/Deployment update completes
	LoadBalancer time.Duration // a LoadBalancer Service gets its address
	Delete       time.Duration // an object or namespace is gone
	Exec         time.Duration // one command in a container (a node agent's)
}{
	PodsReady:    3 * time.Minute,
	Rollout:      3 * time.Minute,
	LoadBalancer: 2 * time.Minute,
	Delete:       2 * time.Minute,
	Exec:         30 * time.Second,
}

// Poll checks cond every 250 ms until it holds, errors, or timeout passes.
func Poll(ctx context.Context, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	return wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, cond)
}

// Gone waits until get reports NotFound.
func Gone(ctx context.Context, get func(context.Context) error) error {
	return Poll(ctx, Timeouts.Delete, func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(get(ctx)), nil
	})
}

// IgnoreNotFound is err, or nil when err is NotFound: deleting what is
// already gone succeeds.
func IgnoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
