package kube

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
)

// ReadyPods waits until exactly n pods match selector in ns and all are
// Running, Ready and not being deleted, and returns them.
func ReadyPods(ctx context.Context, c kubernetes.Interface, ns, selector string, n int) ([]corev1.Pod, error) {
	var pods []corev1.Pod
	var last string
	err := Poll(ctx, Timeouts.PodsReady, func(ctx context.Context) (bool, error) {
		l, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		pods = pods[:0]
		for _, p := range l.Items {
			if p.DeletionTimestamp == nil {
				pods = append(pods, p)
			}
		}
		if len(pods) != n {
			last = fmt.Sprintf("%d of %d pods", len(pods), n)
			return false, nil
		}
		for _, p := range pods {
			if !podReady(p) {
				last = fmt.Sprintf("pod %s is %s", p.Name, podState(p))
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for %d ready pods %q in %s: %s: %w", n, selector, ns, last, err)
	}
	return pods, nil
}

func podReady(p corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podState is a short description of why a pod is not ready, for errors.
func podState(p corev1.Pod) string {
	for _, c := range p.Status.ContainerStatuses {
		if w := c.State.Waiting; w != nil {
			return fmt.Sprintf("%s: %s %s", p.Status.Phase, w.Reason, w.Message)
		}
	}
	return string(p.Status.Phase)
}

// Exec runs cmd in a container and returns its stdout; a non-zero exit is an
// error that carries stderr. cfg is the configuration c was made from: exec
// streams over its own connection.
func Exec(ctx context.Context, c kubernetes.Interface, cfg *rest.Config, ns, pod, container string, cmd ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeouts.Exec)
	defer cancel()
	req := c.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		return "", fmt.Errorf("exec in %s/%s: %w", ns, pod, err)
	}
	var out, errb bytes.Buffer
	if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out, Stderr: &errb}); err != nil {
		return out.String(), fmt.Errorf("%s in %s/%s: %w: %s", strings.Join(cmd, " "), ns, pod, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}
