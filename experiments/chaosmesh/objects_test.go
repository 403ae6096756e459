package chaosmesh

import (
	"strings"
	"testing"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

var (
	testMeta   = Meta{Name: "chaosmesh-x", Namespace: "ns1", Labels: map[string]string{"netchaos.io/run": "r1"}}
	testSource = Selection{Namespace: "ns1", Labels: map[string]string{"app": clientApp}}
	testTarget = Selection{Namespace: "ns1", Labels: map[string]string{"app": echoApp}}
)

func TestNetworkChaos(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   NetworkFault
		wantErr string
		check   func(t *testing.T, s v1alpha1.NetworkChaosSpec)
	}{
		{name: "partition", fault: NetworkFault{Action: v1alpha1.PartitionAction, Duration: 10 * time.Second},
			check: func(t *testing.T, s v1alpha1.NetworkChaosSpec) {
				if s.PartitionBehavior != v1alpha1.DropPartitionBehavior {
					t.Errorf("partition behaviour %q, want drop", s.PartitionBehavior)
				}
				if s.Loss != nil || s.Delay != nil {
					t.Errorf("partition carries tc parameters: loss %v delay %v", s.Loss, s.Delay)
				}
			}},
		{name: "loss", fault: NetworkFault{Action: v1alpha1.LossAction, Duration: 30 * time.Second, Loss: 100},
			check: func(t *testing.T, s v1alpha1.NetworkChaosSpec) {
				if s.Loss == nil || s.Loss.Loss != "100" || s.Loss.Correlation != "0" {
					t.Errorf("loss spec %+v, want 100 %% uncorrelated", s.Loss)
				}
			}},
		{name: "delay", fault: NetworkFault{Action: v1alpha1.DelayAction, Duration: 90 * time.Second, Latency: 1500 * time.Millisecond},
			check: func(t *testing.T, s v1alpha1.NetworkChaosSpec) {
				if s.Delay == nil || s.Delay.Latency != "1.5s" || s.Delay.Jitter != "0ms" {
					t.Errorf("delay spec %+v, want 1.5s without jitter", s.Delay)
				}
			}},
		{name: "no duration", fault: NetworkFault{Action: v1alpha1.PartitionAction}, wantErr: "no duration"},
		{name: "loss out of range", fault: NetworkFault{Action: v1alpha1.LossAction, Duration: time.Second, Loss: 150}, wantErr: "not in 1-100"},
		{name: "zero loss", fault: NetworkFault{Action: v1alpha1.LossAction, Duration: time.Second}, wantErr: "not in 1-100"},
		{name: "zero latency", fault: NetworkFault{Action: v1alpha1.DelayAction, Duration: time.Second}, wantErr: "not positive"},
		{name: "unsupported action", fault: NetworkFault{Action: v1alpha1.BandwidthAction, Duration: time.Second}, wantErr: "not one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fault.Source, tc.fault.Target = testSource, testTarget
			x, err := NetworkChaos(testMeta, tc.fault)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := x.Spec
			if s.Action != tc.fault.Action || s.Direction != v1alpha1.Both {
				t.Errorf("action %q direction %q, want %q both", s.Action, s.Direction, tc.fault.Action)
			}
			if s.Duration == nil || *s.Duration != tc.fault.Duration.String() {
				t.Errorf("duration %v, want %s", s.Duration, tc.fault.Duration)
			}
			wantSel(t, "source", s.PodSelector, testSource)
			if s.Target == nil {
				t.Fatal("no target")
			}
			wantSel(t, "target", *s.Target, testTarget)
			if x.Name != testMeta.Name || x.Namespace != testMeta.Namespace || x.Labels["netchaos.io/run"] != "r1" {
				t.Errorf("meta %s/%s %v, want %+v", x.Namespace, x.Name, x.Labels, testMeta)
			}
			tc.check(t, s)
		})
	}
}

func wantSel(t *testing.T, what string, got v1alpha1.PodSelector, want Selection) {
	t.Helper()
	if got.Mode != v1alpha1.AllMode {
		t.Errorf("%s mode %q, want all", what, got.Mode)
	}
	if len(got.Selector.Namespaces) != 1 || got.Selector.Namespaces[0] != want.Namespace {
		t.Errorf("%s namespaces %v, want [%s]", what, got.Selector.Namespaces, want.Namespace)
	}
	for k, v := range want.Labels {
		if got.Selector.LabelSelectors[k] != v {
			t.Errorf("%s label %s=%q, want %q", what, k, got.Selector.LabelSelectors[k], v)
		}
	}
}

func TestPodKill(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fault    PodFault
		wantMode v1alpha1.SelectorMode
		wantErr  string
	}{
		{name: "echo pod", fault: PodFault{Duration: 10 * time.Second, Target: testTarget}, wantMode: v1alpha1.OneMode},
		{name: "CNI agent on one node", fault: PodFault{Duration: 10 * time.Second, Mode: v1alpha1.AllMode,
			Target: Selection{Namespace: "kube-system", Labels: map[string]string{"k8s-app": "calico-node"}, Nodes: []string{"w1"}}}, wantMode: v1alpha1.AllMode},
		{name: "no duration", fault: PodFault{Target: testTarget}, wantErr: "no duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := PodKill(testMeta, tc.fault)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := x.Spec
			if s.Action != v1alpha1.PodKillAction || s.GracePeriod != 0 || s.Mode != tc.wantMode {
				t.Errorf("action %q grace %d mode %q, want pod-kill 0 %q", s.Action, s.GracePeriod, s.Mode, tc.wantMode)
			}
			if s.Duration == nil || *s.Duration != tc.fault.Duration.String() {
				t.Errorf("duration %v, want %s", s.Duration, tc.fault.Duration)
			}
			if got := s.Selector.Nodes; len(got) != len(tc.fault.Target.Nodes) {
				t.Errorf("nodes %v, want %v", got, tc.fault.Target.Nodes)
			}
		})
	}
}

// The dynamic client sends what Unstructured makes: kind, group and the
// fault's time limit must survive the conversion.
func TestUnstructured(t *testing.T) {
	nc, err := NetworkChaos(testMeta, NetworkFault{Action: v1alpha1.PartitionAction, Duration: 10 * time.Second, Source: testSource, Target: testTarget})
	if err != nil {
		t.Fatal(err)
	}
	pc, err := PodKill(testMeta, PodFault{Duration: 20 * time.Second, Target: testTarget})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		obj          runtime.Object
		kind, dur    string
		wantResource string
	}{
		{nc, "NetworkChaos", "10s", "networkchaos"},
		{pc, "PodChaos", "20s", "podchaos"},
	} {
		u, err := Unstructured(tc.obj)
		if err != nil {
			t.Fatal(err)
		}
		if u.GetAPIVersion() != "chaos-mesh.org/v1alpha1" || u.GetKind() != tc.kind {
			t.Errorf("%s: apiVersion %q kind %q", tc.kind, u.GetAPIVersion(), u.GetKind())
		}
		if d, _, _ := unstructured.NestedString(u.Object, "spec", "duration"); d != tc.dur {
			t.Errorf("%s: spec.duration %q, want %q", tc.kind, d, tc.dur)
		}
		gvr, err := resourceOf(tc.obj)
		if err != nil || gvr.Resource != tc.wantResource {
			t.Errorf("%s: resource %v (%v), want %s", tc.kind, gvr, err, tc.wantResource)
		}
	}
}
