package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestNodesReady(t *testing.T) {
	notReady := nodeFacts{name: "w2", notReady: "False (KubeletNotReady)"}
	for _, c := range []struct {
		facts []nodeFacts
		n     int
		ok    bool
		says  string
	}{
		{[]nodeFacts{ready("cp", "v"), ready("w1", "v"), ready("w2", "v")}, 3, true, ""},
		{[]nodeFacts{ready("cp", "v"), ready("w1", "v")}, 3, false, "2 of 3 nodes registered"},
		{nil, 3, false, "0 of 3 nodes registered"},
		{[]nodeFacts{ready("cp", "v"), ready("w1", "v"), notReady}, 3, false, "not Ready: w2 False (KubeletNotReady)"},
		// cordoned nodes are Ready for the wait (kubectl wait looked only at the condition)
		{[]nodeFacts{{name: "cp", ready: true, unschedulable: true}}, 1, true, ""},
	} {
		ok, s := nodesReady(c.facts, c.n)
		if ok != c.ok || !strings.Contains(s, c.says) {
			t.Errorf("%+v: %v %q, want %v %q", c.facts, ok, s, c.ok, c.says)
		}
	}
}

func deployment(gen, observed int64, spec, replicas, updated, available int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "coredns", Generation: gen},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(spec)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: observed, Replicas: replicas, UpdatedReplicas: updated,
			AvailableReplicas: available, Conditions: conds},
	}
}

// kubectl rollout status's rules for a Deployment.
func TestRolledOut(t *testing.T) {
	for _, c := range []struct {
		d    *appsv1.Deployment
		ok   bool
		says string
		err  bool
	}{
		{deployment(1, 1, 2, 2, 2, 2), true, "", false},
		{deployment(2, 1, 2, 2, 2, 2), false, "spec update to be observed", false},
		{deployment(1, 1, 2, 2, 1, 1), false, "1 of 2 new replicas updated", false},
		{deployment(1, 1, 2, 3, 2, 2), false, "1 old replicas pending termination", false},
		{deployment(1, 1, 2, 2, 2, 0), false, "0 of 2 updated replicas available", false},
		{deployment(1, 1, 2, 2, 2, 1), false, "1 of 2 updated replicas available", false},
		{deployment(1, 1, 2, 2, 1, 1, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded"}), false, "", true},
		{deployment(1, 1, 2, 2, 2, 2, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Reason: "NewReplicaSetAvailable"}), true, "", false},
	} {
		ok, s, err := rolledOut(c.d)
		if ok != c.ok || !strings.Contains(s, c.says) || (err != nil) != c.err {
			t.Errorf("%+v: %v %q %v, want %v %q err=%v", c.d.Status, ok, s, err, c.ok, c.says, c.err)
		}
	}
}

func TestPoll(t *testing.T) {
	ctx := context.Background()
	n := 0
	err := poll(ctx, "thing", time.Second, time.Millisecond, func(context.Context) (bool, string, error) {
		n++
		return n == 3, "", nil
	})
	if err != nil || n != 3 {
		t.Errorf("done on the third look: %v after %d", err, n)
	}
	err = poll(ctx, "nodes not Ready", 30*time.Millisecond, time.Millisecond, func(context.Context) (bool, string, error) {
		return false, "not Ready: w2 False", nil
	})
	if err == nil || err.Error() != "nodes not Ready after 30ms: not Ready: w2 False" {
		t.Errorf("timeout: %v", err)
	}
	// a check's status is kept across looks that have none
	n = 0
	err = poll(ctx, "x", 30*time.Millisecond, time.Millisecond, func(context.Context) (bool, string, error) {
		n++
		if n == 1 {
			return false, "first", nil
		}
		return false, "", nil
	})
	if err == nil || !strings.HasSuffix(err.Error(), ": first") {
		t.Errorf("timeout: %v", err)
	}
	boom := errors.New("boom")
	err = poll(ctx, "CoreDNS not rolled out", time.Minute, time.Millisecond, func(context.Context) (bool, string, error) { return false, "", boom })
	if !errors.Is(err, boom) {
		t.Errorf("a check's error ends the wait: %v", err)
	}
}
