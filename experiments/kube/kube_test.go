package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// The fake clientset has no controllers: what they would do (pods become
// ready, endpoints appear) is in the objects a test starts with. A wait
// that cannot end here ends with its context, so its error is quick.

func readyPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{"app": "web"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
}

// scaled is a fake clientset whose Deployment web has a scale subresource
// (the fake's object tracker has none) and the objects given; it records
// the replicas each update of the scale set.
func scaled(objs ...runtime.Object) (*fake.Clientset, *[]int32) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
	c := fake.NewClientset(append(objs, d)...)
	var set []int32
	c.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"}}, nil
	})
	c.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		s := a.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
		set = append(set, s.Spec.Replicas)
		return true, s, nil
	})
	return c, &set
}

func TestScale(t *testing.T) {
	c, set := scaled(readyPod("web-1"), readyPod("web-2"))
	if err := Scale(t.Context(), c, "ns", "web", 2); err != nil {
		t.Fatal(err)
	}
	if len(*set) != 1 || (*set)[0] != 2 {
		t.Errorf("scale updates %v, want [2]", *set)
	}
}

// Scale waits for the pods, and its error says how many it saw.
func TestScaleWaitsForPods(t *testing.T) {
	c, _ := scaled(readyPod("web-1"))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := Scale(ctx, c, "ns", "web", 2)
	if err == nil || !strings.Contains(err.Error(), `waiting for 2 ready pods "app=web" in ns: 1 of 2 pods`) {
		t.Errorf("err = %v, want the wait for 2 pods, 1 seen", err)
	}
}

func service(lbIP string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "echo", Namespace: "ns"}}
	if lbIP != "" {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: lbIP}}
	}
	return s
}

func endpoints(ready bool) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "echo-abcde", Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: "echo"}},
		Endpoints:  []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}},
	}
}

func TestServiceReady(t *testing.T) {
	for _, tc := range []struct {
		name    string
		objs    []runtime.Object
		lb      bool
		wantErr string // substring; "" = ready
	}{
		{name: "ClusterIP with a ready endpoint", objs: []runtime.Object{service(""), endpoints(true)}},
		{name: "LoadBalancer with its address", objs: []runtime.Object{service("192.0.2.10"), endpoints(true)}, lb: true},
		{name: "no address yet", objs: []runtime.Object{service(""), endpoints(true)}, lb: true, wantErr: "service ns/echo: no load-balancer address yet"},
		{name: "endpoint not ready", objs: []runtime.Object{service(""), endpoints(false)}, wantErr: "service ns/echo: no ready endpoints"},
		{name: "no service", wantErr: `service ns/echo: services "echo" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			svc, err := ServiceReady(ctx, fake.NewClientset(tc.objs...), "ns", "echo", tc.lb)
			switch {
			case tc.wantErr == "" && (err != nil || svc == nil || svc.Name != "echo"):
				t.Errorf("service %v, err %v: want it ready", svc, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
