package experiments

import (
	"context"
	"errors"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netchaos/netchaos/experiments/kube"
)

// Leftovers lists what carries the suite's labels: namespaces and
// cluster-scoped RBAC of every run (or of one run when runID is set).
func (e *Env) Leftovers(ctx context.Context, runID string) ([]string, error) {
	sel := selector(runID)
	var out []string
	nss, err := e.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	for _, n := range nss.Items {
		out = append(out, "namespace/"+n.Name)
	}
	crs, err := e.Kube.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list cluster roles: %w", err)
	}
	for _, r := range crs.Items {
		out = append(out, "clusterrole/"+r.Name)
	}
	crbs, err := e.Kube.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list cluster role bindings: %w", err)
	}
	for _, b := range crbs.Items {
		out = append(out, "clusterrolebinding/"+b.Name)
	}
	return out, nil
}

// Cleanup deletes everything carrying the suite's labels, from this or an
// earlier interrupted run, and waits until the namespaces are gone. It
// returns what it deleted.
func (e *Env) Cleanup(ctx context.Context, runID string) ([]string, error) {
	left, err := e.Leftovers(ctx, runID)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, l := range left {
		kind, name, _ := strings.Cut(l, "/")
		switch kind {
		case "namespace":
			errs = append(errs, e.DeleteNamespace(ctx, name))
		case "clusterrole":
			errs = append(errs, kube.IgnoreNotFound(e.Kube.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})))
		case "clusterrolebinding":
			errs = append(errs, kube.IgnoreNotFound(e.Kube.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})))
		}
	}
	return left, errors.Join(errs...)
}

func selector(runID string) string {
	if runID == "" {
		return Selector
	}
	return Selector + "," + LabelRun + "=" + runID
}
