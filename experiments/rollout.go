package experiments

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RolledOut waits until the DaemonSet's controller has seen its latest spec
// and every scheduled pod is updated and ready.
func (e *Env) RolledOut(ctx context.Context, ds *appsv1.DaemonSet) error {
	var last string
	err := poll(ctx, Timeouts.Rollout, func(ctx context.Context) (bool, error) {
		d, err := e.Kube.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		s := d.Status
		last = fmt.Sprintf("%d/%d updated, %d ready", s.UpdatedNumberScheduled, s.DesiredNumberScheduled, s.NumberReady)
		return s.ObservedGeneration >= d.Generation && s.UpdatedNumberScheduled == s.DesiredNumberScheduled &&
			s.NumberReady == s.DesiredNumberScheduled && s.NumberUnavailable == 0, nil
	})
	if err != nil {
		return fmt.Errorf("rollout of daemonset %s: %s: %w", ds.Name, last, err)
	}
	return nil
}
