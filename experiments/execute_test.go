package experiments

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/probe"
)

// Execute against a fake clientset. What the fake cannot do is left out:
// exec (the node agent's commands: the cluster has no nodes, so the agent
// is a DaemonSet with no pods to wait for) and pod logs (a probe client's
// samples: the flows here are the runner's own, to a local echo).

const fakeNS = "netchaos-fake-0101-0000-abcdef"

func fakeEnv(t *testing.T) (*Env, *fake.Clientset) {
	cs := fake.NewClientset()
	// The fake's tracker records a delete-collection and carries out
	// nothing: do it, as the API server would for the runner's pod delete.
	pods := corev1.SchemeGroupVersion.WithResource("pods")
	cs.PrependReactor("delete-collection", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		l, err := cs.Tracker().List(pods, corev1.SchemeGroupVersion.WithKind("Pod"), a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		for _, p := range l.(*corev1.PodList).Items {
			cs.Tracker().Delete(pods, p.Namespace, p.Name)
		}
		return true, nil, nil
	})
	return &Env{Kube: cs, RunID: "0101-0000-abcdef", Image: DefaultImage, TTL: time.Minute, Log: t.Logf}, cs
}

var fastWindows = Windows{Observe: 300 * time.Millisecond, Mitigation: 200 * time.Millisecond}

// calls is what the runner called on a fake experiment's trial, in order.
type calls struct {
	mu  sync.Mutex
	got []string
}

func (c *calls) add(s string) { c.mu.Lock(); c.got = append(c.got, s); c.mu.Unlock() }

// fakeExp is an outage experiment whose Setup does what setup says.
type fakeExp struct {
	setup func(ctx context.Context, r *Run, t *fakeTrial) error
	calls *calls
}

type fakeTrial struct {
	calls   *calls
	partial string // what Setup did before it failed
}

func (x *fakeExp) Name() string                       { return "fake" }
func (x *fakeExp) Info() Info                         { return Info{Title: "fake", Trigger: "poke"} }
func (x *fakeExp) Applies(Environment) (bool, string) { return true, "" }
func (x *fakeExp) Expectations(Environment) []Expect {
	return []Expect{{Flow: "external/echo", Outcome: NoOutage}}
}
func (x *fakeExp) Mitigations() []Mitigation { return []Mitigation{Mitigate("fix", (*fakeTrial).fix)} }

func (x *fakeExp) Setup(ctx context.Context, r *Run) (Trial, error) {
	t := &fakeTrial{calls: x.calls}
	x.calls.add("setup")
	if x.setup == nil {
		return t, nil
	}
	return t, x.setup(ctx, r, t)
}

func (t *fakeTrial) Inject(context.Context, *Run) error { t.calls.add("inject"); return nil }
func (t *fakeTrial) Evidence(context.Context, *Run) []Evidence {
	t.calls.add("evidence")
	return []Evidence{{Name: "state"}}
}
func (t *fakeTrial) fix(context.Context, *Run) error { t.calls.add("fix"); return nil }
func (t *fakeTrial) Recover(ctx context.Context, r *Run) error {
	t.calls.add("recover " + t.partial)
	return kube.IgnoreNotFound(r.Kube.RbacV1().ClusterRoles().Delete(ctx, "fake-node-state", metav1.DeleteOptions{}))
}

// echoFlow is a Setup that starts a UDP echo on this host and the runner's
// own flow to it.
func echoFlow(_ context.Context, r *Run, _ *fakeTrial) error {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := c.LocalAddr().String()
	c.Close()
	go probe.Echo(r.ProbeContext(), probe.Identity{Pod: "echo"}, []string{addr}, nil)
	r.WantFlows(1)
	return r.Collector.RunLocal(r.ProbeContext(), probe.Flow{Name: "echo", Mode: probe.UDPPinned, Target: addr}, r.FlowOptions)
}

func whats(actions []Action) []string {
	var out []string
	for _, a := range actions {
		out = append(out, a.What)
	}
	return out
}

// cleanedUp checks the run's namespace and its janitor's RBAC are gone.
func cleanedUp(t *testing.T, cs *fake.Clientset) {
	t.Helper()
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), fakeNS, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s still there: %v", fakeNS, err)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(context.Background(), fakeNS+"-janitor", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("janitor's cluster role still there: %v", err)
	}
}

func TestExecuteOutage(t *testing.T) {
	e, cs := fakeEnv(t)
	c := &calls{}
	res := e.Execute(context.Background(), &fakeExp{setup: echoFlow, calls: c}, fastWindows)
	if !res.Applicable || res.Err != nil {
		t.Fatalf("applicable %v, err %v", res.Applicable, res.Err)
	}
	want := []string{"deploy node agent", "set up workload and probes", "wait for steady state", "inject: poke", "mitigate: fix", "recover node state", "delete namespace " + fakeNS}
	if got := whats(res.Actions); !slices.Equal(got, want) {
		t.Errorf("actions %q, want %q", got, want)
	}
	if want := []string{"setup", "evidence", "inject", "evidence", "fix", "evidence", "recover "}; !slices.Equal(c.got, want) {
		t.Errorf("calls on the trial %q, want %q", c.got, want)
	}
	var when []string
	for _, ev := range res.Evidence {
		when = append(when, ev.When)
	}
	if want := []string{"before trigger", "after trigger", "after fix"}; !slices.Equal(when, want) {
		t.Errorf("evidence taken %q, want %q", when, want)
	}
	if len(res.Markers) != 2 || res.Markers[0].Name != "trigger" || res.Markers[1].Name != "fix" || res.Interval != 10*time.Millisecond {
		t.Errorf("markers %+v, interval %s", res.Markers, res.Interval)
	}
	if len(res.Flows) != 1 || res.Flows[0].Name != "external/echo" || res.Flows[0].Stats.Sent == 0 || len(res.Flows[0].Checks) != 2 || res.Flows[0].Checks[0].Expect == nil {
		t.Errorf("flows %+v: want external/echo measured after the trigger (with its expectation) and after the fix", res.Flows)
	}
	if _, err := cs.AppsV1().DaemonSets(fakeNS).Get(context.Background(), "netchaos-node-agent", metav1.GetOptions{}); err != nil {
		t.Errorf("node agent: %v", err)
	}
	cleanedUp(t, cs)
}

// The handle Setup gets is the run's: its namespace, agent, image, cluster
// and labels carrying the run ID.
func TestExecuteHandle(t *testing.T) {
	e, _ := fakeEnv(t)
	e.Cluster.Provider = "kind"
	var got *Run
	res := e.Execute(context.Background(), &fakeExp{calls: &calls{}, setup: func(_ context.Context, r *Run, _ *fakeTrial) error {
		got = r
		return errors.New("seen enough")
	}}, fastWindows)
	if got == nil {
		t.Fatalf("Setup not called: %+v", res)
	}
	l := got.Labels("client")
	if got.Namespace != fakeNS || got.Experiment != "fake" || got.Agent == nil || got.Kube != e.Kube || got.Cluster.Provider != "kind" || !got.OutsideView() {
		t.Errorf("handle: namespace %q, experiment %q, agent %v, cluster %+v, outside view %v", got.Namespace, got.Experiment, got.Agent, got.Cluster, got.OutsideView())
	}
	if l[LabelRun] != e.RunID || l[LabelExperiment] != "fake" || l[LabelRole] != "client" || l[LabelManagedBy] != ManagedBy {
		t.Errorf("labels %v", l)
	}
	if c := got.Container("probe", "echo"); c.Image != DefaultImage || len(c.Env) != 4 {
		t.Errorf("container %+v: want the run's image and the downward env", c)
	}
}

// A typed NotApplicableError from Setup ends the run as not applicable,
// and what Setup did is still undone.
func TestExecuteNotApplicableFromSetup(t *testing.T) {
	e, cs := fakeEnv(t)
	c := &calls{}
	res := e.Execute(context.Background(), &fakeExp{calls: c, setup: func(_ context.Context, _ *Run, t *fakeTrial) error {
		t.partial = "half"
		return NotApplicable("node %s has no widget", "w1")
	}}, fastWindows)
	if res.Applicable || res.Reason != "node w1 has no widget" || res.Err != nil {
		t.Errorf("applicable %v, reason %q, err %v", res.Applicable, res.Reason, res.Err)
	}
	if !slices.Contains(c.got, "recover half") {
		t.Errorf("calls %q: the trial Setup returned was not recovered", c.got)
	}
	if len(res.Actions) < 2 || res.Actions[1].Err != "not applicable: node w1 has no widget" {
		t.Errorf("actions %+v", res.Actions)
	}
	cleanedUp(t, cs)
}

// Setup failing partway returns its state, and recovery undoes what it did
// outside the namespace.
func TestExecuteSetupFailsPartway(t *testing.T) {
	e, cs := fakeEnv(t)
	c := &calls{}
	res := e.Execute(context.Background(), &fakeExp{calls: c, setup: func(ctx context.Context, r *Run, t *fakeTrial) error {
		if _, err := r.Kube.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "fake-node-state"}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		t.partial = "node state"
		return errors.New("second step broke")
	}}, fastWindows)
	if res.Err == nil || res.Err.Error() != "set up workload and probes: second step broke" {
		t.Errorf("err %v", res.Err)
	}
	if !slices.Contains(c.got, "recover node state") || slices.Contains(c.got, "inject") {
		t.Errorf("calls %q: want recovery of the partial setup and no trigger", c.got)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(context.Background(), "fake-node-state", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("what Setup created outside the namespace is still there: %v", err)
	}
	if want := []string{"deploy node agent", "set up workload and probes", "recover node state", "delete namespace " + fakeNS}; !slices.Equal(whats(res.Actions), want) {
		t.Errorf("actions %q, want %q", whats(res.Actions), want)
	}
	cleanedUp(t, cs)
}

// A namespace that cannot be deleted is the run's error, recorded.
func TestExecuteNamespaceDeleteError(t *testing.T) {
	e, cs := fakeEnv(t)
	cs.PrependReactor("delete", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("etcd is on holiday")
	})
	res := e.Execute(context.Background(), &fakeExp{calls: &calls{}}, fastWindows)
	last := res.Actions[len(res.Actions)-1]
	if res.Err == nil || !strings.Contains(res.Err.Error(), "etcd is on holiday") || last.What != "delete namespace "+fakeNS || last.Err == "" {
		t.Errorf("err %v, last action %+v", res.Err, last)
	}
}

func TestExecuteNotApplicable(t *testing.T) {
	e, cs := fakeEnv(t)
	e.Cluster.Provider = "eks"
	res := e.Execute(context.Background(), &fakeSurvey{}, fastWindows)
	if res.Applicable || res.Reason != "kind only" || len(res.Actions) != 0 {
		t.Errorf("applicable %v, reason %q, actions %+v", res.Applicable, res.Reason, res.Actions)
	}
	if l, _ := cs.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("an experiment that does not apply created namespace %s", l.Items[0].Name)
	}
}

// fakeSurvey measures one cell and has no trigger.
type fakeSurvey struct{}

type surveyTrial struct{}

func (*fakeSurvey) Name() string                      { return "fake" }
func (*fakeSurvey) Info() Info                        { return Info{Title: "fake survey"} }
func (*fakeSurvey) Expectations(Environment) []Expect { return nil }
func (*fakeSurvey) ExpectedCells(Environment) []Cell {
	return []Cell{{Case: "a → b", Expected: "reachable"}}
}
func (*fakeSurvey) Setup(context.Context, *Run) (Trial, error) { return &surveyTrial{}, nil }
func (*fakeSurvey) Applies(env Environment) (bool, string) {
	return env.Provider != "eks", "kind only"
}

func (*surveyTrial) Measure(context.Context, *Run) ([]Cell, error) {
	return []Cell{{Case: "a → b", Expected: "reachable", Observed: "reachable", Match: true}}, errors.New("one placement failed")
}

// A survey gets no node agent, no steady state and no trigger: its cells
// are measured, and the error that comes with them is the run's.
func TestExecuteSurvey(t *testing.T) {
	e, cs := fakeEnv(t)
	res := e.Execute(context.Background(), &fakeSurvey{}, fastWindows)
	if want := []string{"set up workload and probes", "measure", "delete namespace " + fakeNS}; !slices.Equal(whats(res.Actions), want) {
		t.Errorf("actions %q, want %q", whats(res.Actions), want)
	}
	if len(res.Cells) != 1 || !res.Cells[0].Match || res.Err == nil || res.Err.Error() != "measure: one placement failed" {
		t.Errorf("cells %+v, err %v", res.Cells, res.Err)
	}
	if res.Interval != 0 || res.Markers != nil || res.Flows != nil || res.Evidence != nil {
		t.Errorf("a survey has no flows: interval %s, markers %v, flows %v, evidence %v", res.Interval, res.Markers, res.Flows, res.Evidence)
	}
	if _, err := cs.AppsV1().DaemonSets(fakeNS).Get(context.Background(), "netchaos-node-agent", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a survey deployed the node agent: %v", err)
	}
	cleanedUp(t, cs)
}
