package manifests

import (
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	batchv1 "k8s.io/api/batch/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/netchaos/netchaos/experiments"
)

func decode(t *testing.T, b []byte) []runtime.Object {
	t.Helper()
	objs, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) == 0 {
		t.Fatal("no objects")
	}
	return objs
}

// Everything installed carries the suite's label, and none carries a run ID:
// `netchaos cleanup` deletes the objects of runs, never the installation.
func TestEveryObjectLabelledAndNoLeftover(t *testing.T) {
	for _, b := range [][]byte{RBAC, CronJob} {
		for _, o := range decode(t, b) {
			m, err := meta.Accessor(o)
			if err != nil {
				t.Fatal(err)
			}
			kind := o.GetObjectKind().GroupVersionKind().Kind
			if m.GetLabels()[experiments.LabelManagedBy] != experiments.ManagedBy {
				t.Errorf("%s %s: not labelled %s", kind, m.GetName(), experiments.Selector)
			}
			if _, ok := m.GetLabels()[experiments.LabelRun]; ok {
				t.Errorf("%s %s: carries %s, so cleanup would delete it", kind, m.GetName(), experiments.LabelRun)
			}
		}
	}
}

// rules returns every Role and ClusterRole by name.
func rules(t *testing.T) map[string][]rbacv1.PolicyRule {
	out := map[string][]rbacv1.PolicyRule{}
	for _, o := range decode(t, RBAC) {
		switch r := o.(type) {
		case *rbacv1.ClusterRole:
			out["ClusterRole/"+r.Name] = r.Rules
		case *rbacv1.Role:
			out["Role/"+r.Namespace+"/"+r.Name] = r.Rules
		}
	}
	return out
}

// No wildcard, no verb that grants more than it names, no secrets.
func TestRolesGrantNoWildcardNorEscalation(t *testing.T) {
	roles := rules(t)
	if len(roles) != 3 {
		t.Fatalf("roles %v, want the runner's ClusterRole and two Roles", len(roles))
	}
	for name, rs := range roles {
		for _, r := range rs {
			for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs, r.ResourceNames} {
				if slices.Contains(list, "*") {
					t.Errorf("%s: wildcard in %+v", name, r)
				}
			}
			for _, v := range []string{"escalate", "bind", "impersonate", "update"} {
				if slices.Contains(r.Verbs, v) && !(v == "update" && slices.Equal(r.Resources, []string{"deployments/scale"})) {
					t.Errorf("%s: verb %s in %+v", name, v, r)
				}
			}
			for _, res := range r.Resources {
				if res == "secrets" || res == "nodes/proxy" || strings.HasPrefix(res, "serviceaccounts/") {
					t.Errorf("%s: grants %s", name, res)
				}
			}
			if len(r.NonResourceURLs) > 0 {
				t.Errorf("%s: non-resource URLs %v", name, r.NonResourceURLs)
			}
		}
	}
}

// Every rule says why: the line before each rule is a comment.
func TestEveryRuleCommented(t *testing.T) {
	lines := strings.Split(string(RBAC), "\n")
	n := 0
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "- apiGroups:") && strings.HasPrefix(l, "  - ") {
			n++
			if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") {
				t.Errorf("rbac.yaml line %d: rule without a comment above it: %s", i+1, strings.TrimSpace(l))
			}
		}
	}
	if n < 10 {
		t.Errorf("found %d rules", n)
	}
}

// The runner holds everything the janitor's ClusterRole grants, cluster-wide:
// that is why it needs neither escalate nor bind to create and bind it.
func TestRunnerCoversTheJanitor(t *testing.T) {
	runner := rules(t)["ClusterRole/"+ServiceAccount]
	for _, jr := range experiments.JanitorRules("netchaos-x-1122-0000-abcdef") {
		for _, res := range jr.Resources {
			for _, v := range jr.Verbs {
				covered := slices.ContainsFunc(runner, func(r rbacv1.PolicyRule) bool {
					return len(r.ResourceNames) == 0 && slices.Contains(r.Resources, res) && slices.Contains(r.Verbs, v) &&
						slices.Contains(r.APIGroups, jr.APIGroups[0])
				})
				if !covered {
					t.Errorf("janitor may %s %s; the runner may not, so creating the janitor's role needs escalate", v, res)
				}
			}
		}
	}
}

// Bindings give the roles to the runner's service account only; the guard
// policy is bound and denies.
func TestBindingsAndGuard(t *testing.T) {
	roles := rules(t)
	var bindings, guards int
	check := func(name, roleKind, role string, subjects []rbacv1.Subject, ns string) {
		bindings++
		key := roleKind + "/" + role
		if roleKind == "Role" {
			key = "Role/" + ns + "/" + role
		}
		if _, ok := roles[key]; !ok {
			t.Errorf("%s binds %s, not in rbac.yaml", name, key)
		}
		if len(subjects) != 1 || subjects[0].Kind != "ServiceAccount" || subjects[0].Name != ServiceAccount || subjects[0].Namespace != Namespace {
			t.Errorf("%s: subjects %+v, want only %s/%s", name, subjects, Namespace, ServiceAccount)
		}
	}
	for _, o := range decode(t, RBAC) {
		switch b := o.(type) {
		case *rbacv1.ClusterRoleBinding:
			check(b.Name, b.RoleRef.Kind, b.RoleRef.Name, b.Subjects, "")
		case *rbacv1.RoleBinding:
			check(b.Name, b.RoleRef.Kind, b.RoleRef.Name, b.Subjects, b.Namespace)
		case *admissionv1.ValidatingAdmissionPolicyBinding:
			guards++
			if b.Spec.PolicyName != "netchaos-runner-guard" || !slices.Equal(b.Spec.ValidationActions, []admissionv1.ValidationAction{admissionv1.Deny}) {
				t.Errorf("guard binding %+v", b.Spec)
			}
		case *admissionv1.ValidatingAdmissionPolicy:
			guards++
			if len(b.Spec.MatchConditions) != 1 || !strings.Contains(b.Spec.MatchConditions[0].Expression, "system:serviceaccount:"+Namespace+":"+ServiceAccount) {
				t.Errorf("guard does not match the runner only: %+v", b.Spec.MatchConditions)
			}
		}
	}
	if bindings != 3 || guards != 2 {
		t.Errorf("%d bindings and %d guard objects, want 3 and 2", bindings, guards)
	}
}

// The game day runs in-cluster as the runner, gated, bounded in time, never
// two at once, never retried, and keeps its reports.
func TestGameDay(t *testing.T) {
	cj, err := GameDay("registry.example/netchaos:v9")
	if err != nil {
		t.Fatal(err)
	}
	js := cj.Spec.JobTemplate.Spec
	if cj.Namespace != Namespace || cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("namespace %q, concurrency %q", cj.Namespace, cj.Spec.ConcurrencyPolicy)
	}
	if js.BackoffLimit == nil || *js.BackoffLimit != 0 || js.ActiveDeadlineSeconds == nil || *js.ActiveDeadlineSeconds <= 0 {
		t.Errorf("backoffLimit %v, activeDeadlineSeconds %v", js.BackoffLimit, js.ActiveDeadlineSeconds)
	}
	pod := js.Template.Spec
	if pod.ServiceAccountName != ServiceAccount || len(pod.Containers) != 1 {
		t.Fatalf("service account %q, %d containers", pod.ServiceAccountName, len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "registry.example/netchaos:v9" || !slices.Contains(c.Args, "--image=registry.example/netchaos:v9") {
		t.Errorf("image %s, args %v", c.Image, c.Args)
	}
	for _, want := range []string{"run", "--in-cluster", "--gate", "--ttl=", "--report-namespace=", "--keep-reports=", "--report-dir="} {
		if !slices.ContainsFunc(c.Args, func(a string) bool { return a == want || (strings.HasSuffix(want, "=") && strings.HasPrefix(a, want)) }) {
			t.Errorf("args %v lack %s", c.Args, want)
		}
	}
	for _, a := range c.Args {
		if a == "--allow-node-disruption" || strings.HasPrefix(a, "--context") || strings.HasPrefix(a, "--kubeconfig") {
			t.Errorf("arg %s", a)
		}
	}
	if sc := c.SecurityContext; sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Privileged != nil && *sc.Privileged {
		t.Errorf("runner container may escalate: %+v", sc)
	}
}

func TestDecodeRefusesBadInput(t *testing.T) {
	for _, in := range []string{"kind: Frobnicator\napiVersion: v9\nmetadata: {name: x}\n", "---\n# only a comment\n---\n", "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n"} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
