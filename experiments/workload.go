package experiments

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// DownwardEnv exposes the pod's identity to the probe agent (POD_NAME,
// POD_IP, NODE_NAME, HOST_IP), so echo answers say who answered.
func DownwardEnv() []corev1.EnvVar {
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	return []corev1.EnvVar{field("POD_NAME", "metadata.name"), field("POD_IP", "status.podIP"),
		field("NODE_NAME", "spec.nodeName"), field("HOST_IP", "status.hostIP")}
}

// ServiceReady waits until the Service has a ready endpoint and, if lb, a
// load-balancer address, and returns it.
func (e *Env) ServiceReady(ctx context.Context, ns, name string, lb bool) (*corev1.Service, error) {
	var svc *corev1.Service
	var last string
	err := poll(ctx, Timeouts.LoadBalancer, func(ctx context.Context) (bool, error) {
		s, err := e.Kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		svc = s
		if lb && (len(s.Status.LoadBalancer.Ingress) == 0 || s.Status.LoadBalancer.Ingress[0].IP == "") {
			last = "no load-balancer address yet (is a LoadBalancer implementation installed?)"
			return false, nil
		}
		slices, err := e.Kube.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
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

// Scale sets a Deployment's replicas and waits until exactly that many pods
// are ready.
func (e *Env) Scale(ctx context.Context, ns, name string, n int32) error {
	s, err := e.Kube.AppsV1().Deployments(ns).GetScale(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("scale %s: %w", name, err)
	}
	s.Spec.Replicas = n
	if _, err := e.Kube.AppsV1().Deployments(ns).UpdateScale(ctx, name, s, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("scale %s to %d: %w", name, n, err)
	}
	d, err := e.Kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	sel := metav1.FormatLabelSelector(d.Spec.Selector)
	_, err = e.ReadyPods(ctx, ns, sel, int(n))
	return err
}

// Gone waits until get reports NotFound.
func (e *Env) Gone(ctx context.Context, get func(context.Context) error) error {
	return poll(ctx, Timeouts.Delete, func(ctx context.Context) (bool, error) {
		return apierrors.IsNotFound(get(ctx)), nil
	})
}

// DaemonSet returns a DaemonSet named name (pods labelled app=name and with
// the run's labels for role) running spec. Pods stop within a second.
func (r *Run) DaemonSet(name, role string, spec corev1.PodSpec) *appsv1.DaemonSet {
	labels := r.Labels(role)
	labels["app"] = name
	if spec.TerminationGracePeriodSeconds == nil {
		spec.TerminationGracePeriodSeconds = ptr.To[int64](1)
	}
	if spec.Affinity == nil {
		spec.Affinity = r.Cluster.Placement()
	}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.Namespace, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec},
		},
	}
}

// Container is the probe agent container running args.
func (e *Env) Container(name string, args ...string) corev1.Container {
	return corev1.Container{Name: name, Image: e.Image, ImagePullPolicy: corev1.PullIfNotPresent, Args: args, Env: DownwardEnv()}
}
