package experiments

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stesting "k8s.io/client-go/testing"
)

// The pods go at once, after the namespace is Terminating (so nothing can
// replace them), instead of waiting out the namespace controller's backoff;
// with their own grace, so that the kubelet confirms they stopped.
func TestDeleteNamespaceDeletesPodsAtOnce(t *testing.T) {
	e, cs := fakeEnv(t)
	ctx := context.Background()
	cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fakeNS}}, metav1.CreateOptions{})
	cs.CoreV1().Pods(fakeNS).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "client", Namespace: fakeNS}}, metav1.CreateOptions{})
	cs.ClearActions()
	if err := e.DeleteNamespace(ctx, fakeNS); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, a := range cs.Actions() {
		switch a := a.(type) {
		case k8stesting.DeleteActionImpl:
			if a.GetResource().Resource == "namespaces" {
				order = append(order, "namespace")
			}
		case k8stesting.DeleteCollectionActionImpl:
			if a.GetResource().Resource == "pods" && a.GetNamespace() == fakeNS {
				if g := a.DeleteOptions.GracePeriodSeconds; g != nil {
					t.Errorf("pods deleted with grace %v, want their own", *g)
				}
				order = append(order, "pods")
			}
		}
	}
	if len(order) != 2 || order[0] != "namespace" || order[1] != "pods" {
		t.Errorf("deletes %v, want the namespace, then its pods", order)
	}
	// (the fake's tracker does not carry out a delete-collection: the
	// requests are what this can check)
}

// The runner's delete returns once the pods and Services are gone and
// leaves the namespace to WaitNamespaces at the end of the run.
func TestReleaseNamespaceThenWait(t *testing.T) {
	e, cs := fakeEnv(t)
	ctx := context.Background()
	cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fakeNS}}, metav1.CreateOptions{})
	cs.CoreV1().Services(fakeNS).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "statsd", Namespace: fakeNS}}, metav1.CreateOptions{})
	if err := e.releaseNamespace(ctx, fakeNS); err != nil {
		t.Fatal(err)
	}
	if l, _ := cs.CoreV1().Services(fakeNS).List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("%d services left after releaseNamespace, want none", len(l.Items))
	}
	if len(e.pending) != 1 || e.pending[0] != fakeNS {
		t.Fatalf("pending %v, want [%s]", e.pending, fakeNS)
	}
	if err := e.WaitNamespaces(ctx); err != nil {
		t.Fatal(err)
	}
	if len(e.pending) != 0 {
		t.Errorf("pending %v after WaitNamespaces, want none", e.pending)
	}
}
