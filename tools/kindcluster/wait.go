package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// check is one look at a condition: done, or what it still waits for; an
// error ends the wait (a transient API error is a status, not an error).
type check func(ctx context.Context) (done bool, status string, err error)

// poll looks every interval until the check is done, fails, or timeout
// passes; the timeout's error says what it was still waiting for. what
// names the failure ("nodes not Ready").
func poll(ctx context.Context, what string, timeout, interval time.Duration, c check) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	status := "no answer yet"
	for {
		done, s, err := c(ctx)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", what, err)
		case done:
			return nil
		}
		if s != "" {
			status = s
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s after %v: %s", what, timeout, status)
		case <-time.After(interval):
		}
	}
}

// nodesReady: at least n nodes, all Ready (kubectl wait --for=condition=Ready nodes --all,
// and the nodes kind joined all registered).
func nodesReady(facts []nodeFacts, n int) (bool, string) {
	if len(facts) < n {
		return false, fmt.Sprintf("%d of %d nodes registered", len(facts), n)
	}
	var waiting []string
	for _, f := range facts {
		if !f.ready {
			waiting = append(waiting, f.name+" "+f.notReady)
		}
	}
	if len(waiting) > 0 {
		return false, "not Ready: " + strings.Join(waiting, ", ")
	}
	return true, ""
}

func nodesReadyCheck(cs kubernetes.Interface, n int) check {
	return func(ctx context.Context) (bool, string, error) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, oneLine(err.Error()), nil
		}
		var facts []nodeFacts
		for i := range nodes.Items {
			facts = append(facts, factsOf(&nodes.Items[i]))
		}
		ok, s := nodesReady(facts, n)
		return ok, s, nil
	}
}

// rolledOut is kubectl rollout status for a Deployment (DeploymentStatusViewer,
// k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go): the latest spec
// observed, every replica updated, no old ones left, the updated ones
// available; a progress deadline exceeded is an error.
func rolledOut(d *appsv1.Deployment) (bool, string, error) {
	if d.Generation > d.Status.ObservedGeneration {
		return false, "waiting for the deployment spec update to be observed", nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return false, "", fmt.Errorf("deployment %s exceeded its progress deadline", d.Name)
		}
	}
	st := d.Status
	switch {
	case d.Spec.Replicas != nil && st.UpdatedReplicas < *d.Spec.Replicas:
		return false, fmt.Sprintf("%d of %d new replicas updated", st.UpdatedReplicas, *d.Spec.Replicas), nil
	case st.Replicas > st.UpdatedReplicas:
		return false, fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas), nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return false, fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, st.UpdatedReplicas), nil
	}
	return true, "", nil
}

func rolledOutCheck(cs kubernetes.Interface, namespace, name string) check {
	return func(ctx context.Context) (bool, string, error) {
		d, err := cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, oneLine(err.Error()), nil
		}
		return rolledOut(d)
	}
}
