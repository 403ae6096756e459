package experiments

import (
	"context"
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
//
// Its pods are deleted at once (grace 0) once the namespace is Terminating,
// where no controller can create their replacements: while pods remain, the
// namespace controller retries with an exponential backoff, and the
// namespace took 10-14 s to go after every experiment of a warm make test,
// though its pods have 1 s of grace. The kubelet still stops their
// containers (SIGTERM, then SIGKILL after its minimum grace).
func (e *Env) DeleteNamespace(ctx context.Context, ns string) error {
	name := ns + "-janitor"
	e.Kube.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
	e.Kube.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{})
	err := e.Kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete namespace %s: %w", ns, err)
	}
	if err == nil {
		// Best effort: the namespace controller deletes whatever this leaves.
		e.Kube.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}, metav1.ListOptions{})
	}
	return kube.Gone(ctx, func(ctx context.Context) error {
		_, err := e.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return err
	})
}
