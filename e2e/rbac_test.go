package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/e2e-framework/klient/k8s"

	"github.com/netchaos/netchaos/experiments"
	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/manifests"
	"github.com/netchaos/netchaos/reports"
)

// The runner needs no more than manifests/rbac.yaml grants: the CLI runs an
// experiment, and cleans up a killed one, with a kubeconfig holding only the
// runner's token; the account is refused what it must never do; and the
// scheduled game day runs in-cluster and keeps a report that netchaos reads
// back and diffs.
var _ = Describe("least-privilege runner", Serial, Ordered, ContinueOnFailure, Label("rbac", "safety"), func() {
	const light = "udp-recreate-clusterip"
	var (
		bin         string
		reportDir   string // lives until the last spec: the game day's report is diffed against it
		kubeconfig  string // holds only the runner's token
		runner      *experiments.Env
		firstReport string // report.json of the run with the token
		user        = "system:serviceaccount:" + manifests.Namespace + ":" + manifests.ServiceAccount
	)

	BeforeAll(func(ctx context.Context) {
		bin = netchaosCLI(ctx)
		reportDir = GinkgoT().TempDir()

		By("applying manifests/rbac.yaml")
		objs, err := manifests.Decode(manifests.RBAC)
		Expect(err).NotTo(HaveOccurred())
		for _, o := range objs {
			obj := o.(k8s.Object)
			what := fmt.Sprintf("%s %s", o.GetObjectKind().GroupVersionKind().Kind, obj.GetName())
			Expect(env.Resources().Create(ctx, obj)).To(Succeed(), what)
			DeferCleanup(func(ctx context.Context) {
				err := env.Resources().Delete(ctx, obj)
				Expect(err == nil || apierrors.IsNotFound(err)).To(BeTrue(), "delete %s: %v", what, err)
				if _, ok := o.(*corev1.Namespace); ok {
					Expect(kube.Gone(ctx, func(ctx context.Context) error {
						_, err := env.Kube.CoreV1().Namespaces().Get(ctx, obj.GetName(), metav1.GetOptions{})
						return err
					})).To(Succeed())
				}
			})
		}

		By("minting a token for " + user + " (TokenRequest) and a kubeconfig holding only it")
		tok, err := env.Kube.CoreV1().ServiceAccounts(manifests.Namespace).CreateToken(ctx, manifests.ServiceAccount,
			&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		ca := env.Config.TLSClientConfig.CAData
		if len(ca) == 0 && env.Config.TLSClientConfig.CAFile != "" {
			ca, err = os.ReadFile(env.Config.TLSClientConfig.CAFile)
			Expect(err).NotTo(HaveOccurred())
		}
		kc := clientcmdapi.NewConfig()
		// Same context name as the admin's: the name is how kind is recognised.
		kc.Clusters["cluster"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: ca}
		kc.AuthInfos[manifests.ServiceAccount] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
		kc.Contexts[env.Context] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: manifests.ServiceAccount}
		kubeconfig = filepath.Join(GinkgoT().TempDir(), "runner.kubeconfig")
		Expect(clientcmd.WriteToFile(*kc, kubeconfig)).To(Succeed())
		runner, err = experiments.NewEnv(experiments.Options{Kubeconfig: kubeconfig, Context: env.Context, Image: env.Image})
		Expect(err).NotTo(HaveOccurred())
		Expect(runner.Config.CertData).To(BeEmpty(), "the runner's kubeconfig must hold no client certificate")
		who, err := runner.Kube.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(who.Status.UserInfo.Username).To(Equal(user))
	})

	It("runs an experiment with only the runner's token, gated, and leaves nothing", func(ctx context.Context) {
		dir := reportDir
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, "run", "--kubeconfig", kubeconfig, "--context", env.Context, "--image", env.Image,
			"--experiments", light, "--observe", "20s", "--gate", "--report-dir", dir)
		cmd.Stdout, cmd.Stderr = GinkgoWriter, io.MultiWriter(GinkgoWriter, &stderr)
		err := cmd.Run()
		forbidden := matching(stderr.String(), "(?i)forbidden")
		AddReportEntry("forbidden lines in the runner's log", strings.Join(forbidden, "\n"))
		// The spec is about permissions, not this cluster's verdict: exit 1
		// is the gate saying "vulnerable" (kube-proxy as released left the
		// ClusterIP flow's entries un-NATed in one run of four), and must then
		// agree with the report; any other failure is the runner's.
		var exit *exec.ExitError
		gated := errors.As(err, &exit) && exit.ExitCode() == 1
		if !gated {
			Expect(err).NotTo(HaveOccurred(), "netchaos run as %s; the end of its log:\n%s", user, lastLines(stderr.String(), 15))
		}
		// Detect and the collector log and carry on when refused: a Forbidden
		// anywhere is a missing permission even when the run succeeded.
		Expect(forbidden).To(BeEmpty())

		firstReport = filepath.Join(dir, "report.json")
		rep, err := reports.Load(firstReport)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Experiments).To(HaveLen(1))
		x := rep.Experiments[0]
		Expect(x.Name).To(Equal(light))
		Expect(x.Verdict).NotTo(Equal(reports.Errored), x.Reason)
		AddReportEntry("verdict with the runner's token", fmt.Sprintf("%s: %s %s", x.Name, x.Verdict, x.Reason))
		Expect(gated).To(Equal(rep.ExitCode() != 0), "--gate exited %v; the report's verdict is %s", err, x.Verdict)
		By("detecting the same cluster as cluster-admin does (kube-system reads suffice)")
		Expect(rep.Environment.KubeProxyMode).To(Equal(env.Cluster.KubeProxyMode))
		Expect(rep.Environment.CNI).To(Equal(env.Cluster.CNI))
		Expect(rep.Environment.Nodes).To(Equal(len(env.Cluster.Nodes)))
		Expect(x.Lab).To(Equal(env.Cluster.Lab), "the lab profile (ConfigMap kube-system/%s)", experiments.LabConfigMap)

		left, err := env.Leftovers(ctx, rep.Run.ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(BeEmpty(), "objects of run %s left behind", rep.Run.ID)
	})

	It("cleans up a killed run with only the runner's token", func(ctx context.Context) {
		cmd := exec.Command(bin, "run", "--kubeconfig", kubeconfig, "--context", env.Context, "--image", env.Image,
			"--experiments", light, "--report-dir", GinkgoT().TempDir())
		pr, pw := io.Pipe()
		cmd.Stdout, cmd.Stderr = GinkgoWriter, pw
		// The run names its namespace, and so its run ID, once the namespace
		// and the janitor's RBAC exist.
		ids := make(chan string, 1)
		go func() {
			re := regexp.MustCompile(`namespace netchaos-\S*?(\d{4}-\d{4}-[0-9a-f]{6}) \(`)
			sc := bufio.NewScanner(pr)
			for sc.Scan() {
				GinkgoWriter.Println(sc.Text())
				if m := re.FindStringSubmatch(sc.Text()); m != nil {
					select {
					case ids <- m[1]:
					default:
					}
				}
			}
		}()
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() { cmd.Process.Kill(); cmd.Wait(); pw.Close() })
		var id string
		Eventually(ids).WithTimeout(2 * time.Minute).Should(Receive(&id))
		By("SIGKILL to run " + id)
		Expect(cmd.Process.Kill()).To(Succeed())
		cmd.Wait()
		left, err := env.Leftovers(ctx, id)
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(ContainElements(HavePrefix("namespace/"), HavePrefix("clusterrole/"), HavePrefix("clusterrolebinding/")))

		By("netchaos cleanup with the runner's token")
		out, err := exec.CommandContext(ctx, bin, "cleanup", "--kubeconfig", kubeconfig, "--context", env.Context, "--run", id).CombinedOutput()
		GinkgoWriter.Printf("%s", out)
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(matching(string(out), "(?i)forbidden")).To(BeEmpty())
		left, err = env.Leftovers(ctx, id)
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(BeEmpty())
	})

	It("is refused what it must never do", func(ctx context.Context) {
		sar := func(attr authzv1.ResourceAttributes) bool {
			r, err := env.Kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
				User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + manifests.Namespace, "system:authenticated"},
				ResourceAttributes: &attr}}, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
			return r.Status.Allowed
		}
		By("RBAC: SubjectAccessReviews")
		for _, a := range []authzv1.ResourceAttributes{
			{Verb: "list", Resource: "nodes"},
			{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "netchaos-x"},
			{Verb: "get", Resource: "configmaps", Namespace: "kube-system", Name: "kube-proxy"},
			{Verb: "get", Resource: "configmaps", Namespace: "kube-system", Name: experiments.LabConfigMap},
		} {
			Expect(sar(a)).To(BeTrue(), "needed and granted: %+v", a)
		}
		for _, a := range []authzv1.ResourceAttributes{
			{Verb: "get", Resource: "secrets", Namespace: "kube-system"},
			{Verb: "list", Resource: "secrets"},
			{Verb: "delete", Resource: "nodes"},
			{Verb: "patch", Resource: "nodes"},
			{Verb: "get", Resource: "nodes", Subresource: "proxy"},
			{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
			{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Name: "cluster-admin"},
			{Verb: "update", Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Name: manifests.ServiceAccount},
			{Verb: "impersonate", Resource: "users"},
			{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Namespace: "kube-system"},
			{Verb: "get", Resource: "configmaps", Namespace: "kube-system", Name: "coredns"},
			{Verb: "update", Resource: "configmaps", Namespace: "kube-system", Name: "kube-proxy"},
			{Verb: "get", Resource: "configmaps", Namespace: manifests.Namespace},
			{Verb: "delete", Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies", Name: "netchaos-runner-guard"},
			{Verb: "delete", Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings", Name: "netchaos-runner-guard"},
		} {
			Expect(sar(a)).To(BeFalse(), "%s may %s %s/%s %s/%s", user, a.Verb, a.Group, a.Resource, a.Namespace, a.Name)
		}

		By("admission: what RBAC grants cluster-wide is refused outside netchaos runs (dry run, as the runner)")
		dry := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
		guarded := func(err error) {
			GinkgoHelper()
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "want Forbidden, got %v", err)
			Expect(err.Error()).To(ContainSubstring("netchaos-runner may only touch what a netchaos run owns"))
			AddReportEntry("refused by the guard", err.Error())
		}
		// The policy takes effect a moment after it is created. The target is
		// the installation's own namespace: labelled managed-by=netchaos but
		// no run's (kube-system is guarded by the API server itself).
		Eventually(ctx, func(ctx context.Context) error {
			return runner.Kube.CoreV1().Namespaces().Delete(ctx, manifests.Namespace, metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}})
		}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(MatchError(ContainSubstring("netchaos-runner may only touch")))
		_, err := runner.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "netchaos-guard-unlabelled"}}, dry)
		guarded(err)
		guarded(runner.Kube.RbacV1().ClusterRoles().Delete(ctx, "cluster-admin", metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}))
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "netchaos-guard", Namespace: "kube-system"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: env.Image}}}}
		_, err = runner.Kube.CoreV1().Pods("kube-system").Create(ctx, pod, dry)
		guarded(err)
		_, err = runner.Kube.AppsV1().DaemonSets("kube-system").Patch(ctx, "kube-proxy", types.StrategicMergePatchType,
			[]byte(`{"metadata":{"labels":{"netchaos-guard":"x"}}}`), metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
		guarded(err)
		proxies, err := env.Kube.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-proxy"})
		Expect(err).NotTo(HaveOccurred())
		Expect(proxies.Items).NotTo(BeEmpty())
		_, err = kube.Exec(ctx, runner.Kube, runner.Config, "kube-system", proxies.Items[0].Name, "", "true")
		Expect(err).To(MatchError(ContainSubstring("netchaos-runner may only touch")), "exec into kube-system")
		AddReportEntry("exec refused by the guard", err.Error())

		By("RBAC escalation check: no binding to cluster-admin, even labelled like a run")
		crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "netchaos-guard-admin", Labels: runner.Labels("guard", "")},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: manifests.ServiceAccount, Namespace: manifests.Namespace}}}
		_, err = runner.Kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, dry)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "want Forbidden, got %v", err)
		AddReportEntry("cluster-admin binding refused", err.Error())

		By("and what a run does is admitted")
		_, err = runner.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "netchaos-guard-labelled",
			Labels: runner.Labels("guard", "")}}, dry)
		Expect(err).NotTo(HaveOccurred())
	})

	It("runs the game day CronJob in-cluster and keeps a report that diff reads", func(ctx context.Context) {
		cj, err := manifests.GameDay(env.Image)
		Expect(err).NotTo(HaveOccurred())
		// Only the experiment and window differ from the shipped CronJob; it
		// is suspended so that its schedule never fires during the test.
		c := &cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
		c.Args = append(c.Args, "--experiments="+light, "--observe=20s")
		cj.Spec.Suspend = ptr.To(true)
		cj, err = env.Kube.BatchV1().CronJobs(cj.Namespace).Create(ctx, cj, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx context.Context) {
			Expect(kube.IgnoreNotFound(env.Kube.BatchV1().CronJobs(cj.Namespace).Delete(ctx, cj.Name, metav1.DeleteOptions{}))).To(Succeed())
		})

		By("creating a Job from the CronJob's template, as kubectl create job --from=cronjob/" + cj.Name + " does")
		job := &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: cj.Name + "-e2e", Namespace: cj.Namespace, Labels: cj.Spec.JobTemplate.Labels,
				Annotations:     map[string]string{"cronjob.kubernetes.io/instantiate": "manual"},
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))}},
			Spec: cj.Spec.JobTemplate.Spec,
		}
		job, err = env.Kube.BatchV1().Jobs(job.Namespace).Create(ctx, job, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx context.Context) {
			Expect(kube.IgnoreNotFound(env.Kube.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name,
				metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}))).To(Succeed())
		})
		var done batchv1.JobConditionType
		Eventually(ctx, func(ctx context.Context) (batchv1.JobConditionType, error) {
			j, err := env.Kube.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
			if err != nil {
				return "", err
			}
			for _, c := range j.Status.Conditions {
				if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
					done = c.Type
				}
			}
			return done, nil
		}).WithTimeout(8 * time.Minute).WithPolling(2 * time.Second).ShouldNot(BeEmpty())
		logs := jobLogs(ctx, job)
		GinkgoWriter.Printf("job %s log:\n%s\n", job.Name, logs)
		AddReportEntry("forbidden lines in the game day's log", strings.Join(matching(logs, "(?i)forbidden"), "\n"))
		// As with the run with the token: a job that failed on --gate (the
		// shipped CronJob gates) is this cluster's verdict, checked against
		// the report below; any other failure is the runner's.
		gated := done == batchv1.JobFailed && len(matching(logs, "^gate: ")) > 0
		if !gated {
			Expect(done).To(Equal(batchv1.JobComplete), "the game day job failed; its log is above")
		}
		Expect(matching(logs, "(?i)forbidden")).To(BeEmpty())

		By("reading the report ConfigMap the run named")
		m := regexp.MustCompile(`report: configmap (\S+)/(\S+)`).FindStringSubmatch(logs)
		Expect(m).NotTo(BeNil(), "the run printed no report configmap")
		ns, name := m[1], m[2]
		DeferCleanup(func(ctx context.Context) {
			Expect(kube.IgnoreNotFound(env.Kube.CoreV1().ConfigMaps(ns).Delete(ctx, name, metav1.DeleteOptions{}))).To(Succeed())
		})
		cm, err := env.Kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(cm.Labels).To(HaveKeyWithValue(experiments.LabelManagedBy, experiments.ManagedBy))
		Expect(cm.Labels).To(HaveKeyWithValue(experiments.LabelReport, "true"))
		Expect(cm.Data["report.md"]).To(ContainSubstring(light))
		rep, err := experiments.ReportFromConfigMap(cm)
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Run.Context).To(Equal(experiments.InClusterContext))
		Expect(rep.Experiments).To(HaveLen(1))
		x := rep.Experiments[0]
		Expect(x.Name).To(Equal(light))
		AddReportEntry("game day verdict", fmt.Sprintf("%s/%s: %s: %s %s", ns, name, x.Name, x.Verdict, x.Reason))
		Expect(x.Verdict).NotTo(Equal(reports.Errored), x.Reason)
		Expect(gated).To(Equal(rep.ExitCode() != 0), "the game day job ended %s; the report's verdict is %s", done, x.Verdict)
		GinkgoWriter.Printf("game day report %s/%s: %s %s %s\n", ns, name, x.Name, x.Verdict, x.Reason)

		By("nothing of the game day's run remains")
		// Only this run's objects: other runs may share the cluster.
		Eventually(ctx, func(ctx context.Context) ([]string, error) {
			return env.Leftovers(ctx, rep.Run.ID)
		}).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(BeEmpty())

		By("fetching it with netchaos report --from-configmap and diffing it against the run with the token")
		fetched := filepath.Join(GinkgoT().TempDir(), "report.json")
		out, err := exec.CommandContext(ctx, bin, "report", "--kubeconfig", os.Getenv("KUBECONFIG"), "--context", env.Context,
			"--from-configmap", ns+"/"+name, "--format", "json", "--out", fetched).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		if firstReport == "" {
			Skip("no report from the run with the token to diff against")
		}
		out, err = exec.CommandContext(ctx, bin, "diff", "--before", firstReport, "--after", fetched).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		Expect(string(out)).To(ContainSubstring("what changed"))
		GinkgoWriter.Printf("netchaos diff:\n%s\n", out)
	})
})

// jobLogs is the log of the job's pod (one: backoffLimit 0).
func jobLogs(ctx context.Context, job *batchv1.Job) string {
	pods, err := env.Kube.CoreV1().Pods(job.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job.Name})
	Expect(err).NotTo(HaveOccurred())
	Expect(pods.Items).NotTo(BeEmpty(), "job %s has no pod", job.Name)
	b, err := env.Kube.CoreV1().Pods(job.Namespace).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{}).DoRaw(ctx)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// matching returns the lines of s that match the regular expression.
func matching(s, re string) []string {
	var out []string
	r := regexp.MustCompile(re)
	for _, l := range strings.Split(s, "\n") {
		if r.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
