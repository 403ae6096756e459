package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Scale sets a Deployment's replicas and waits until exactly that many pods
// are ready.
func Scale(ctx context.Context, c kubernetes.Interface, ns, name string, n int32) error {
	s, err := c.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("scale %s: %w", name, err)
	}
	s.Spec.Replicas = n
	if _, err := c.AppsV1().Deployments(ns).UpdateScale(ctx, name, s, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("scale %s to %d: %w", name, n, err)
	}
	d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	sel := metav1.FormatLabelSelector(d.Spec.Selector)
	_, err = ReadyPods(ctx, c, ns, sel, int(n))
	return err
}

// RolledOut waits until the DaemonSet's controller has seen its latest spec
// and every scheduled pod is updated and ready.
func RolledOut(ctx context.Context, c kubernetes.Interface, ds *appsv1.DaemonSet) error {
	var last string
	err := Poll(ctx, Timeouts.Rollout, func(ctx context.Context) (bool, error) {
		d, err := c.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
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
