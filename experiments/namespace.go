package experiments

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/netchaos/netchaos/experiments/kube"
)

// Namespace creates the namespace one experiment of this run lives in, with a
// janitor pod inside that deletes it (and so every fault inside it) when the
// run's TTL expires, even if the runner crashed or was killed. It returns the
// namespace name; Delete removes it.
func (e *Env) Namespace(ctx context.Context, exp string) (string, error) {
	name := fmt.Sprintf("netchaos-%s-%s", exp, e.RunID)
	if len(name) > 63 {
		name = name[:63]
	}
	expires := time.Now().Add(e.TTL).UTC().Format(time.RFC3339)
	labels := e.Labels(exp, "")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels,
		Annotations: map[string]string{AnnotationExpiry: expires}}}
	// Pods here run privileged (node agents); label for Pod Security admission.
	ns.Labels["pod-security.kubernetes.io/enforce"] = "privileged"
	ns, err := e.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("create namespace %s: %w", name, err)
	}
	if err := e.janitor(ctx, ns, exp, expires); err != nil {
		e.DeleteNamespace(context.WithoutCancel(ctx), ns.Name)
		return "", err
	}
	return name, nil
}

// janitor is the dead-man switch: a pod allowed to delete only its own
// namespace, which it does at expiry. Its cluster-scoped RBAC is owned by the
// namespace, so the garbage collector removes it with the namespace.
func (e *Env) janitor(ctx context.Context, nsObj *corev1.Namespace, exp, expires string) error {
	ns := nsObj.Name
	owner := []metav1.OwnerReference{{APIVersion: "v1", Kind: "Namespace", Name: ns, UID: nsObj.UID}}
	labels := e.Labels(exp, "janitor")
	rbac := e.Kube.RbacV1()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "netchaos-janitor", Namespace: ns, Labels: labels}}
	if _, err := e.Kube.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("janitor service account: %w", err)
	}
	name := ns + "-janitor"
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, OwnerReferences: owner}, Rules: JanitorRules(ns)}
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("janitor cluster role: %w", err)
	}
	bind := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, OwnerReferences: owner},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: ns}}}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, bind, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("janitor cluster role binding: %w", err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "netchaos-janitor", Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{
			ServiceAccountName: sa.Name,
			RestartPolicy:      corev1.RestartPolicyOnFailure,
			Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name: "janitor", Image: e.Image, ImagePullPolicy: corev1.PullIfNotPresent,
				Args: []string{"janitor", "--namespace", ns, "--at", expires},
			}},
			TerminationGracePeriodSeconds: ptr.To[int64](1),
		}}
	if _, err := e.Kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("janitor pod: %w", err)
	}
	return nil
}

// JanitorRules are all the janitor of namespace ns may do: get and delete
// that namespace. The runner holds these itself (manifests/rbac.yaml), so it
// can create and bind the janitor's role without the escalate or bind verbs.
func JanitorRules(ns string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "delete"}, ResourceNames: []string{ns}}}
}

// DeleteNamespace deletes a run namespace and its janitor's RBAC, and waits
// until the namespace is gone. NotFound is success.
func (e *Env) DeleteNamespace(ctx context.Context, ns string) error {
	if err := e.startDelete(ctx, ns); err != nil {
		return err
	}
	return e.gone(ctx, ns)
}

// releaseNamespace is the runner's delete after each experiment: it waits
// until the namespace's pods have stopped (the kubelet confirmed it) and its
// Services are gone, so that nothing of the experiment still sends, answers
// or is programmed by kube-proxy when the next one starts, and leaves the
// rest (the namespace controller empties a namespace only 5 s after its
// deletion: that fixed delay was half of every experiment's cleanup) to
// WaitNamespaces, which the end of a run calls.
func (e *Env) releaseNamespace(ctx context.Context, ns string) error {
	if err := e.startDelete(ctx, ns); err != nil {
		return err
	}
	// A runner bound to an older manifests/rbac.yaml may not list Services:
	// the namespace controller then deletes them, 5 s later.
	services := func(ctx context.Context) ([]corev1.Service, error) {
		l, err := e.Kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if apierrors.IsForbidden(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	}
	if svcs, err := services(ctx); err == nil {
		for _, s := range svcs {
			e.Kube.CoreV1().Services(ns).Delete(ctx, s.Name, metav1.DeleteOptions{})
		}
	}
	var left string
	err := kube.Poll(ctx, kube.Timeouts.Delete, func(ctx context.Context) (bool, error) {
		pods, err := e.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		svcs, err := services(ctx)
		if err != nil {
			return false, err
		}
		left = fmt.Sprintf("%d pods, %d services", len(pods.Items), len(svcs))
		return len(pods.Items) == 0 && len(svcs) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("namespace %s: %s still there: %w", ns, left, err)
	}
	e.pendingMu.Lock()
	e.pending = append(e.pending, ns)
	e.pendingMu.Unlock()
	return nil
}

// WaitNamespaces waits until every namespace the runner released is gone:
// the end of a run calls it, before it reports that nothing is left.
func (e *Env) WaitNamespaces(ctx context.Context) error {
	e.pendingMu.Lock()
	pending := e.pending
	e.pending = nil
	e.pendingMu.Unlock()
	var errs []error
	for _, ns := range pending {
		errs = append(errs, e.gone(ctx, ns))
	}
	return errors.Join(errs...)
}

// startDelete deletes the namespace, its janitor's RBAC and at once its
// pods (with their own 1-s grace: the kubelet stops them and confirms):
// while pods remain, the namespace controller retries with an exponential
// backoff, and a namespace took 10-14 s to go after every experiment of a
// warm make test.
func (e *Env) startDelete(ctx context.Context, ns string) error {
	name := ns + "-janitor"
	e.Kube.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
	e.Kube.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
	err := e.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete namespace %s: %w", ns, err)
	}
	// Best effort: the namespace controller deletes whatever this leaves.
	e.Kube.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	return nil
}

// gone waits until namespace ns no longer exists.
func (e *Env) gone(ctx context.Context, ns string) error {
	return kube.Gone(ctx, func(ctx context.Context) error {
		_, err := e.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return err
	})
}
