package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// ServiceReady waits until the Service has a ready endpoint and, if lb, a
// load-balancer address, and returns it.
func ServiceReady(ctx context.Context, c kubernetes.Interface, ns, name string, lb bool) (*corev1.Service, error) {
	var svc *corev1.Service
	var last string
	err := Poll(ctx, Timeouts.LoadBalancer, func(ctx context.Context) (bool, error) {
		s, err := c.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		svc = s
		if lb && (len(s.Status.LoadBalancer.Ingress) == 0 || s.Status.LoadBalancer.Ingress[0].IP == "") {
			last = "no load-balancer address yet (is a LoadBalancer implementation installed?)"
			return false, nil
		}
		slices, err := c.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		for _, sl := range slices.Items {
			for _, ep := range sl.Endpoints {
				if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
					return true, nil
				}
			}
		}
		last = "no ready endpoints"
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("service %s/%s: %s: %w", ns, name, last, err)
	}
	return svc, nil
}
