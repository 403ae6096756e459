package experiments

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// Placement is where a one-shot probe runs.
type Placement struct {
	Node        string // node name; required
	HostNetwork bool   // in the node's network namespace instead of a pod's
}

// ProbeFrom runs the given flows for d from a short-lived pod at p in the
// run's namespace and returns their samples (flow names unchanged). The pod
// is deleted after.
func (r *Run) ProbeFrom(ctx context.Context, p Placement, flows []probe.Flow, d time.Duration, o probe.Options) ([]probe.Sample, error) {
	return oneShot{kube: r.Kube, image: r.Image, ns: r.Namespace, labels: r.Labels("oneshot")}.probe(ctx, p, flows, d, o)
}

// ProbeFrom is Run.ProbeFrom outside a run (the cluster smoke test): from
// namespace ns, made with Namespace, the pod labelled for experiment exp.
func (e *Env) ProbeFrom(ctx context.Context, ns, exp string, p Placement, flows []probe.Flow, d time.Duration, o probe.Options) ([]probe.Sample, error) {
	return oneShot{kube: e.Kube, image: e.Image, ns: ns, labels: e.Labels(exp, "oneshot")}.probe(ctx, p, flows, d, o)
}

// oneShot is where a one-shot probe pod runs and what it carries.
type oneShot struct {
	kube   kubernetes.Interface
	image  string
	ns     string
	labels map[string]string
}

func (s oneShot) probe(ctx context.Context, p Placement, flows []probe.Flow, d time.Duration, o probe.Options) ([]probe.Sample, error) {
	args, err := probe.Args(o, flows...)
	if err != nil {
		return nil, err
	}
	args = append(args, "--duration", d.String())
	name := fmt.Sprintf("probe-%s-%d", shortNode(p.Node), time.Now().UnixNano()%1e6)
	if p.HostNetwork {
		name = "host" + name
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: s.ns, Labels: s.labels},
		Spec: corev1.PodSpec{
			NodeName: p.Node, HostNetwork: p.HostNetwork, RestartPolicy: corev1.RestartPolicyNever,
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			ActiveDeadlineSeconds:         ptr.To(int64(d.Seconds()) + 120),
			Containers:                    []corev1.Container{{Name: "probe", Image: s.image, ImagePullPolicy: corev1.PullIfNotPresent, Args: args}},
		},
	}
	pods := s.kube.CoreV1().Pods(s.ns)
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create probe pod on %s: %w", p.Node, err)
	}
	defer pods.Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	var phase corev1.PodPhase
	var last string // why the pod is not done yet: its phase, or why it cannot be read (Forbidden)
	err = kube.Poll(ctx, d+kube.Timeouts.PodsReady, func(ctx context.Context) (bool, error) {
		got, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		phase = got.Status.Phase
		last = string(phase)
		return phase == corev1.PodSucceeded || phase == corev1.PodFailed, nil
	})
	if err != nil {
		return nil, fmt.Errorf("probe pod on %s did not finish (%s): %w", p.Node, last, err)
	}
	raw, err := pods.GetLogs(name, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("logs of probe pod on %s: %w", p.Node, err)
	}
	var out []probe.Sample
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var s probe.Sample
		if json.Unmarshal(sc.Bytes(), &s) == nil && s.Flow != "" {
			out = append(out, s)
		}
	}
	if phase == corev1.PodFailed {
		return out, fmt.Errorf("probe pod on %s failed: %s", p.Node, lastLine(string(raw)))
	}
	return out, nil
}

func shortNode(n string) string {
	n = strings.ToLower(n)
	if len(n) > 30 {
		n = n[len(n)-30:]
	}
	return strings.Trim(n, "-.")
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
