package chaosmesh

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
)

// Labels Chaos Mesh's Helm chart (and tools/cluster/chaosmesh.sh) put on its
// components.
const (
	controllerSelector = "app.kubernetes.io/name=chaos-mesh,app.kubernetes.io/component=controller-manager"
	daemonSelector     = "app.kubernetes.io/name=chaos-mesh,app.kubernetes.io/component=chaos-daemon"
)

// InjectTimeout bounds the wait for Chaos Mesh to report a fault injected.
var InjectTimeout = time.Minute

// installed returns the nodes with a ready chaos-daemon, or an
// *experiments.NotApplicableError that says what is missing: the CRD
// of kind, a running controller-manager, or (when needDaemon) a daemon.
func installed(ctx context.Context, r *experiments.Run, resource string, needDaemon bool) (map[string]bool, error) {
	gv := v1alpha1.SchemeGroupVersion.String()
	rl, err := r.Kube.Discovery().ServerResourcesForGroupVersion(gv)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("discover %s: %w", gv, err)
	}
	found := false
	if rl != nil {
		for _, res := range rl.APIResources {
			found = found || res.Name == resource
		}
	}
	if !found {
		return nil, experiments.NotApplicable("Chaos Mesh is not installed (no %s.%s CRD)", resource, v1alpha1.SchemeGroupVersion.Group)
	}
	if ready, err := readyNodes(ctx, r, controllerSelector); err != nil {
		return nil, err
	} else if len(ready) == 0 {
		return nil, experiments.NotApplicable("Chaos Mesh controller-manager not running (no ready pod %q)", controllerSelector)
	}
	daemons, err := readyNodes(ctx, r, daemonSelector)
	if err != nil {
		return nil, err
	}
	if needDaemon && len(daemons) == 0 {
		return nil, experiments.NotApplicable("chaos-daemon not running (no ready pod %q)%s", daemonSelector, daemonAbsence(ctx, r))
	}
	return daemons, nil
}

// daemonAbsence is the reason an installer left on the controller's
// Deployment (annotation netchaos.io/chaos-daemon) when it could not install
// the daemon, so the report says why, not only that.
func daemonAbsence(ctx context.Context, r *experiments.Run) string {
	l, err := r.Kube.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: controllerSelector})
	if err != nil {
		return ""
	}
	for _, d := range l.Items {
		if why := d.Annotations["netchaos.io/chaos-daemon"]; why != "" {
			return ": " + why
		}
	}
	return ""
}

func readyNodes(ctx context.Context, r *experiments.Run, selector string) (map[string]bool, error) {
	l, err := r.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods %q: %w", selector, err)
	}
	nodes := map[string]bool{}
	for _, p := range l.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				nodes[p.Spec.NodeName] = true
			}
		}
	}
	return nodes, nil
}

// tcQdiscs are the qdisc kinds chaos-daemon builds for a NetworkChaos with
// tc parameters and a target (pkg/chaosdaemon/tc_server.go): a prio root
// with sfq bands, and netem on the band its ipset filter steers the target's
// packets to. The netem kind comes first: it is what most kernels lack.
var tcQdiscs = []struct {
	kind, module string
	args         []string
}{
	{"netem", "sch_netem", []string{"netem", "delay", "1ms"}},
	{"prio", "sch_prio", []string{"prio", "bands", "4", "priomap", "1", "2", "2", "2", "1", "2", "0", "0", "1", "1", "1", "1", "1", "1", "1", "1"}},
	{"sfq", "sch_sfq", []string{"sfq"}},
}

// qdiscsMissing returns, per node, the qdisc kinds of tcQdiscs its kernel
// lacks, each tried as the root qdisc of lo in a throw-away network
// namespace (unshare) through the node agent: nothing is left behind, and no
// interface a pod uses is touched.
func qdiscsMissing(ctx context.Context, r *experiments.Run, nodes []string) (map[string][]string, error) {
	missing := map[string][]string{}
	for _, n := range nodes {
		for _, q := range tcQdiscs {
			cmd := append([]string{"unshare", "--net", "tc", "qdisc", "add", "dev", "lo", "root"}, q.args...)
			_, err := r.Agent.Run(ctx, n, cmd...)
			switch {
			case err == nil:
			case strings.Contains(err.Error(), "qdisc kind is unknown"):
				missing[n] = append(missing[n], q.kind)
			default:
				return nil, fmt.Errorf("try qdisc %s on %s: %w", q.kind, n, err)
			}
		}
	}
	return missing, nil
}

// lacksReason says which qdiscs are missing where, or "" when none is:
// "kernel lacks the netem qdisc (sch_netem), prio qdisc (sch_prio) on [n1 n2]".
func lacksReason(missing map[string][]string) string {
	var nodes, what []string
	seen := map[string]bool{}
	for n, kinds := range missing {
		if len(kinds) == 0 {
			continue
		}
		nodes = append(nodes, n)
		for _, k := range kinds {
			seen[k] = true
		}
	}
	if len(nodes) == 0 {
		return ""
	}
	sort.Strings(nodes)
	for _, q := range tcQdiscs {
		if seen[q.kind] {
			what = append(what, fmt.Sprintf("%s qdisc (%s)", q.kind, q.module))
		}
	}
	return fmt.Sprintf("kernel lacks the %s on %v", strings.Join(what, ", "), nodes)
}

// Fault is one created Chaos Mesh object.
type Fault struct {
	Resource schema.GroupVersionResource
	Name     string
	ns       string
	client   dynamic.Interface
}

// Create creates obj (a typed NetworkChaos or PodChaos) in its namespace.
func Create(ctx context.Context, r *experiments.Run, obj runtime.Object) (*Fault, error) {
	gvr, err := resourceOf(obj)
	if err != nil {
		return nil, err
	}
	u, err := Unstructured(obj)
	if err != nil {
		return nil, err
	}
	dc, err := dynamic.NewForConfig(r.Config)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	if _, err := dc.Resource(gvr).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create %s %s: %w", gvr.Resource, u.GetName(), err)
	}
	return &Fault{Resource: gvr, Name: u.GetName(), ns: u.GetNamespace(), client: dc}, nil
}

// status reads the object's Chaos Mesh status.
func (f *Fault) status(ctx context.Context) (v1alpha1.ChaosStatus, error) {
	u, err := f.client.Resource(f.Resource).Namespace(f.ns).Get(ctx, f.Name, metav1.GetOptions{})
	if err != nil {
		return v1alpha1.ChaosStatus{}, err
	}
	var st struct {
		Status v1alpha1.ChaosStatus `json:"status"`
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &st); err != nil {
		return v1alpha1.ChaosStatus{}, fmt.Errorf("read status of %s: %w", f.Name, err)
	}
	return st.Status, nil
}

// WaitInjected waits until Chaos Mesh reports the fault applied to every
// selected pod (condition AllInjected). On timeout the error carries the
// last failure Chaos Mesh recorded, which names what broke.
func (f *Fault) WaitInjected(ctx context.Context) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, InjectTimeout, true, func(ctx context.Context) (bool, error) {
		st, err := f.status(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		if msg := lastFailure(st); msg != "" {
			last = msg
		}
		return condition(st, v1alpha1.ConditionAllInjected), nil
	})
	if err != nil {
		if last == "" {
			last = "no failure recorded"
		}
		return fmt.Errorf("%s %s not injected within %s: %s: %w", f.Resource.Resource, f.Name, InjectTimeout, last, err)
	}
	return nil
}

// Delete deletes the object and waits until Chaos Mesh has recovered it and
// removed its finalizer. NotFound is success.
func (f *Fault) Delete(ctx context.Context, r *experiments.Run) error {
	res := f.client.Resource(f.Resource).Namespace(f.ns)
	if err := res.Delete(ctx, f.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s %s: %w", f.Resource.Resource, f.Name, err)
	}
	if err := kube.Gone(ctx, func(ctx context.Context) error { _, err := res.Get(ctx, f.Name, metav1.GetOptions{}); return err }); err != nil {
		return fmt.Errorf("%s %s still there (Chaos Mesh keeps its finalizer until it has recovered the pods): %w", f.Resource.Resource, f.Name, err)
	}
	return nil
}

// Evidence is the object's conditions and per-pod apply/recover events with
// Chaos Mesh's timestamps: when the fault really started and ended.
func (f *Fault) Evidence(ctx context.Context) experiments.Evidence {
	ev := experiments.Evidence{Name: f.Resource.Resource + " " + f.Name}
	st, err := f.status(ctx)
	if err != nil {
		ev.Text = "error: " + err.Error()
		return ev
	}
	ev.Text = StatusText(st)
	return ev
}

// StatusText renders a Chaos Mesh status in lines, oldest event first.
func StatusText(st v1alpha1.ChaosStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "desired phase: %s\n", st.Experiment.DesiredPhase)
	for _, c := range st.Conditions {
		fmt.Fprintf(&b, "condition %s=%s %s\n", c.Type, c.Status, c.Reason)
	}
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	for _, rec := range st.Experiment.Records {
		if rec == nil {
			continue
		}
		for _, e := range rec.Events {
			var at time.Time
			if e.Timestamp != nil {
				at = e.Timestamp.Time
			}
			t := fmt.Sprintf("%s %s %s %s", at.UTC().Format(time.RFC3339), rec.Id, e.Operation, e.Type)
			if e.Message != "" {
				t += ": " + e.Message
			}
			lines = append(lines, line{at, t})
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	for _, l := range lines {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

func condition(st v1alpha1.ChaosStatus, t v1alpha1.ChaosConditionType) bool {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func lastFailure(st v1alpha1.ChaosStatus) string {
	var msg string
	var at time.Time
	for _, rec := range st.Experiment.Records {
		if rec == nil {
			continue
		}
		for _, e := range rec.Events {
			if e.Type == v1alpha1.TypeFailed && e.Timestamp != nil && !e.Timestamp.Time.Before(at) {
				msg, at = rec.Id+": "+e.Message, e.Timestamp.Time
			}
		}
	}
	return msg
}

// deleteAll deletes every fault, joining the errors.
func deleteAll(ctx context.Context, r *experiments.Run, faults []*Fault) error {
	var errs []error
	for _, f := range faults {
		if f != nil {
			errs = append(errs, f.Delete(ctx, r))
		}
	}
	return errors.Join(errs...)
}
