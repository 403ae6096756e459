package chaosmesh

import (
	"context"
	"fmt"
	"time"

	"github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resources of the Chaos Mesh objects the experiments create.
var (
	NetworkChaosResource = v1alpha1.SchemeGroupVersion.WithResource("networkchaos")
	PodChaosResource     = v1alpha1.SchemeGroupVersion.WithResource("podchaos")
)

// Selection is a set of pods in one namespace, by labels, optionally only on
// some nodes: what a fault applies to (its source) or is aimed at (its target).
type Selection struct {
	Namespace string
	Labels    map[string]string
	Nodes     []string
}

func (s Selection) selector() v1alpha1.PodSelector {
	return v1alpha1.PodSelector{
		Selector: v1alpha1.PodSelectorSpec{
			GenericSelectorSpec: v1alpha1.GenericSelectorSpec{Namespaces: []string{s.Namespace}, LabelSelectors: s.Labels},
			Nodes:               s.Nodes,
		},
		Mode: v1alpha1.AllMode,
	}
}

// Meta names a fault object: where it lives and how it is labelled.
type Meta struct {
	Name      string
	Namespace string
	Labels    map[string]string
}

func (m Meta) objectMeta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels}
}

// NetworkFault is one NetworkChaos, as parameters.
type NetworkFault struct {
	Action v1alpha1.NetworkChaosAction // partition, loss or delay
	// Duration is the fault's in-cluster time limit: Chaos Mesh lifts it
	// this long after the object's creation, even if the runner has died.
	Duration time.Duration
	Source   Selection     // pods whose traffic is affected
	Target   Selection     // the other end of the path
	Loss     int           // percent, for loss
	Latency  time.Duration // for delay
}

// NetworkChaos builds the object for f, defaulted and validated the way
// Chaos Mesh's admission webhook would (the minimal install runs none).
func NetworkChaos(m Meta, f NetworkFault) (*v1alpha1.NetworkChaos, error) {
	target := f.Target.selector()
	x := &v1alpha1.NetworkChaos{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.KindNetworkChaos},
		ObjectMeta: m.objectMeta(),
		Spec: v1alpha1.NetworkChaosSpec{
			PodSelector: f.Source.selector(),
			Action:      f.Action,
			Duration:    duration(f.Duration),
			// Both directions: the path is cut (or degraded) whichever end
			// sends, as in a real partition between the two groups.
			Direction: v1alpha1.Both,
			Target:    &target,
		},
	}
	switch f.Action {
	case v1alpha1.PartitionAction:
		x.Spec.PartitionBehavior = v1alpha1.DropPartitionBehavior
	case v1alpha1.LossAction:
		// Chaos Mesh's webhook only checks that the number parses.
		if f.Loss <= 0 || f.Loss > 100 {
			return nil, fmt.Errorf("loss %d %% is not in 1-100", f.Loss)
		}
		x.Spec.Loss = &v1alpha1.LossSpec{Loss: fmt.Sprint(f.Loss), Correlation: "0"}
	case v1alpha1.DelayAction:
		if f.Latency <= 0 {
			return nil, fmt.Errorf("delay latency %s is not positive", f.Latency)
		}
		x.Spec.Delay = &v1alpha1.DelaySpec{Latency: f.Latency.String(), Correlation: "0", Jitter: "0ms"}
	default:
		return nil, fmt.Errorf("network fault %q is not one of partition, loss, delay", f.Action)
	}
	return x, check(x, f.Duration)
}

// PodFault is one PodChaos pod-kill, as parameters.
type PodFault struct {
	// Duration is set for uniformity and for the validation, but Chaos Mesh
	// treats pod-kill as one-shot (IsOneShot): it kills once, ignores the
	// duration and keeps the object until it is deleted (by Recover, or
	// with the run's namespace).
	Duration time.Duration
	Target   Selection
	// Mode is how many of the selected pods die: one (default) or all.
	Mode v1alpha1.SelectorMode
}

// PodKill builds a PodChaos that kills the target pod(s) without a grace
// period, defaulted and validated as the admission webhook would.
func PodKill(m Meta, f PodFault) (*v1alpha1.PodChaos, error) {
	sel := f.Target.selector()
	sel.Mode = f.Mode
	if sel.Mode == "" {
		sel.Mode = v1alpha1.OneMode
	}
	x := &v1alpha1.PodChaos{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.SchemeGroupVersion.String(), Kind: v1alpha1.KindPodChaos},
		ObjectMeta: m.objectMeta(),
		Spec: v1alpha1.PodChaosSpec{
			ContainerSelector: v1alpha1.ContainerSelector{PodSelector: sel},
			Action:            v1alpha1.PodKillAction,
			Duration:          duration(f.Duration),
			GracePeriod:       0,
		},
	}
	return x, check(x, f.Duration)
}

// webhooked is what Chaos Mesh's generated code gives every chaos kind.
type webhooked interface {
	runtime.Object
	Default(context.Context, runtime.Object) error
	Validate() ([]string, error)
}

// check defaults and validates x, and insists on a time limit: a fault
// without one would stay until someone deletes it.
func check(x webhooked, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("fault has no duration: Chaos Mesh would never lift it on its own")
	}
	if err := x.Default(context.Background(), x); err != nil {
		return fmt.Errorf("default: %w", err)
	}
	if _, err := x.Validate(); err != nil {
		return fmt.Errorf("invalid: %w", err)
	}
	return nil
}

func duration(d time.Duration) *string {
	s := d.String()
	return &s
}

// Unstructured converts a typed Chaos Mesh object for the dynamic client.
func Unstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %T: %w", obj, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// resourceOf is the API resource of a typed Chaos Mesh object.
func resourceOf(obj runtime.Object) (schema.GroupVersionResource, error) {
	switch obj.(type) {
	case *v1alpha1.NetworkChaos:
		return NetworkChaosResource, nil
	case *v1alpha1.PodChaos:
		return PodChaosResource, nil
	}
	return schema.GroupVersionResource{}, fmt.Errorf("no resource for %T", obj)
}
