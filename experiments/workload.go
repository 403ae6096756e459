package experiments

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
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
func (r *Run) Container(name string, args ...string) corev1.Container {
	return corev1.Container{Name: name, Image: r.Image, ImagePullPolicy: corev1.PullIfNotPresent, Args: args, Env: DownwardEnv()}
}
