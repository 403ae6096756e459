package chaosmesh

import (
	"context"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/netchaos/netchaos/experiments"
)

func pod(name, component, node string, ready bool) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "chaos-mesh",
			Labels: map[string]string{"app.kubernetes.io/name": "chaos-mesh", "app.kubernetes.io/component": component}},
		Spec:   corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

// What installed says for each state of a Chaos Mesh installation: the
// reason a fault cannot run, or the nodes it can run on.
func TestInstalled(t *testing.T) {
	controller := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "chaos-controller-manager", Namespace: "chaos-mesh",
		Labels:      map[string]string{"app.kubernetes.io/name": "chaos-mesh", "app.kubernetes.io/component": "controller-manager"},
		Annotations: map[string]string{"netchaos.io/chaos-daemon": "not built here"}}}
	for _, tc := range []struct {
		name       string
		crd        bool
		objs       []runtime.Object
		needDaemon bool
		wantNA     string // substring of the not-applicable reason; "" = applicable
		wantNodes  []string
	}{
		{name: "no CRD", wantNA: "Chaos Mesh is not installed (no networkchaos.chaos-mesh.org CRD)"},
		{name: "CRD, no controller", crd: true, wantNA: "controller-manager not running"},
		{name: "controller not ready", crd: true, objs: []runtime.Object{pod("c", "controller-manager", "w1", false)}, wantNA: "controller-manager not running"},
		{name: "no daemon, daemon needed", crd: true, needDaemon: true,
			objs:   []runtime.Object{controller, pod("c", "controller-manager", "w1", true)},
			wantNA: "chaos-daemon not running (no ready pod \"" + daemonSelector + "\"): not built here"},
		{name: "no daemon, controller enough", crd: true, objs: []runtime.Object{pod("c", "controller-manager", "w1", true)}},
		{name: "daemons on two nodes", crd: true, needDaemon: true,
			objs: []runtime.Object{pod("c", "controller-manager", "w1", true), pod("d1", "chaos-daemon", "w1", true),
				pod("d2", "chaos-daemon", "w2", true), pod("d3", "chaos-daemon", "cp", false)},
			wantNodes: []string{"w1", "w2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kube := fake.NewSimpleClientset(tc.objs...)
			if tc.crd {
				kube.Discovery().(*fakediscovery.FakeDiscovery).Resources = []*metav1.APIResourceList{{
					GroupVersion: "chaos-mesh.org/v1alpha1",
					APIResources: []metav1.APIResource{{Name: "networkchaos", Namespaced: true, Kind: "NetworkChaos"}},
				}}
			}
			r := &experiments.Run{Kube: kube}
			nodes, err := installed(context.Background(), r, NetworkChaosResource.Resource, tc.needDaemon)
			if tc.wantNA != "" {
				var na *experiments.NotApplicableError
				if !errors.As(err, &na) || !strings.Contains(na.Reason, tc.wantNA) {
					t.Fatalf("err = %v, want not applicable with %q", err, tc.wantNA)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tc.wantNodes {
				if !nodes[n] {
					t.Errorf("node %s missing from %v", n, nodes)
				}
			}
			if len(nodes) != len(tc.wantNodes) {
				t.Errorf("nodes %v, want %v", nodes, tc.wantNodes)
			}
		})
	}
}

func TestLacksReason(t *testing.T) {
	for _, tc := range []struct {
		missing map[string][]string
		want    string
	}{
		{nil, ""},
		{map[string][]string{"w1": nil}, ""},
		{map[string][]string{"w2": {"prio", "netem"}, "w1": {"netem", "prio"}},
			"kernel lacks the netem qdisc (sch_netem), prio qdisc (sch_prio) on [w1 w2]"},
		{map[string][]string{"w1": {"sfq"}, "w2": nil}, "kernel lacks the sfq qdisc (sch_sfq) on [w1]"},
	} {
		if got := lacksReason(tc.missing); got != tc.want {
			t.Errorf("lacksReason(%v) = %q, want %q", tc.missing, got, tc.want)
		}
	}
}
