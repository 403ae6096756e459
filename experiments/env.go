package experiments

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/e2e-framework/klient"
	"sigs.k8s.io/e2e-framework/klient/k8s/resources"
)

// Labels stamped on everything netchaos creates.
const (
	LabelManagedBy   = "app.kubernetes.io/managed-by"
	ManagedBy        = "netchaos"
	LabelRun         = "netchaos.io/run"
	LabelExperiment  = "netchaos.io/experiment"
	LabelRole        = "netchaos.io/role"
	AnnotationExpiry = "netchaos.io/expires"
)

// Selector selects everything a netchaos run created, in every run. An
// installation (the scheduled game-day CronJob, its RBAC) carries the
// managed-by label but no run label, so cleanup never removes it.
const Selector = LabelManagedBy + "=" + ManagedBy + "," + LabelRun

// DefaultImage is the probe agent image every experiment deploys.
const DefaultImage = "netchaos/probe:dev"

// Logger receives progress lines. The library is silent unless given one.
type Logger func(format string, args ...any)

// printf writes a line to l, if there is one.
func (l Logger) printf(format string, args ...any) {
	if l != nil {
		l(format, args...)
	}
}

// Env is the runner's side of one cluster, named explicitly, and one run of
// the suite: it runs experiments (Execute), each through a Run it builds,
// and cleans up and reports after them.
type Env struct {
	Client  klient.Client
	Kube    kubernetes.Interface
	Config  *rest.Config
	Context string // the kubeconfig context, as the user named it ("in-cluster" with Options.InCluster)
	// InCluster is set when the runner is a pod of the cluster under test:
	// it then has no view from outside the cluster.
	InCluster bool
	RunID     string
	Image     string
	// TTL bounds every fault and object of the run: an in-cluster janitor
	// deletes the run's namespace when it expires, even if the runner died.
	TTL time.Duration
	Log Logger
	// Cluster is the detected environment fingerprint.
	Cluster Environment

	// pending are the namespaces released by the runner and not yet gone
	// (releaseNamespace, WaitNamespaces).
	pendingMu sync.Mutex
	pending   []string
}

// Options for NewEnv: either Kubeconfig and Context, or InCluster.
type Options struct {
	Kubeconfig string // path; required unless InCluster
	Context    string // kubeconfig context; required unless InCluster: netchaos never guesses a cluster
	// InCluster targets the cluster the runner's pod runs in, through its
	// service account (a scheduled game day). It is an explicit choice,
	// exclusive with Kubeconfig and Context, never a fallback.
	InCluster bool
	Image     string
	TTL       time.Duration
	Log       Logger
}

// InClusterContext is the Context of an Env made with Options.InCluster.
const InClusterContext = "in-cluster"

// NewEnv connects to the cluster the user named. It refuses to pick a
// context on its own: a chaos tool must never touch a cluster by default.
func NewEnv(o Options) (*Env, error) {
	cfg, err := restConfig(o)
	if err != nil {
		return nil, err
	}
	if o.InCluster {
		o.Context = InClusterContext
	}
	cfg.QPS, cfg.Burst = 50, 100
	cl, err := klient.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %q: %w", o.Context, err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("clientset for %q: %w", o.Context, err)
	}
	e := &Env{Client: cl, Kube: kube, Config: cfg, Context: o.Context, InCluster: o.InCluster, RunID: newRunID(), Image: o.Image, TTL: o.TTL, Log: o.Log}
	if e.Image == "" {
		e.Image = DefaultImage
	}
	if e.TTL == 0 {
		e.TTL = 20 * time.Minute
	}
	if e.Log == nil {
		e.Log = func(string, ...any) {}
	}
	return e, nil
}

// restConfig is the client configuration for exactly the cluster o names.
func restConfig(o Options) (*rest.Config, error) {
	if o.InCluster {
		if o.Kubeconfig != "" || o.Context != "" {
			return nil, errors.New("in-cluster excludes a kubeconfig and a context: name the cluster one way")
		}
		cfg, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster config: %w", err)
		}
		return cfg, nil
	}
	if o.Kubeconfig == "" {
		return nil, errors.New("no kubeconfig given")
	}
	if o.Context == "" {
		return nil, errors.New("no kubeconfig context given: name the target cluster explicitly")
	}
	raw, err := clientcmd.LoadFromFile(o.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", o.Kubeconfig, err)
	}
	if _, ok := raw.Contexts[o.Context]; !ok {
		return nil, fmt.Errorf("kubeconfig %s has no context %q", o.Kubeconfig, o.Context)
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, o.Context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig context %q: %w", o.Context, err)
	}
	return cfg, nil
}

// OutsideView reports whether the runner's host sits on the cluster's node
// network, outside every pod (kind, run from the host): only then can it
// probe as an external client.
func (e *Env) OutsideView() bool { return e.Cluster.Provider == "kind" && !e.InCluster }

// Resources is the klient resource client.
func (e *Env) Resources() *resources.Resources { return e.Client.Resources() }

// Labels are the labels for an object of experiment exp with role role.
func (e *Env) Labels(exp, role string) map[string]string { return labelsFor(e.RunID, exp, role) }

// labelsFor are the labels for an object of run runID, experiment exp (if
// any) and role (if any).
func labelsFor(runID, exp, role string) map[string]string {
	l := map[string]string{LabelManagedBy: ManagedBy, LabelRun: runID}
	if exp != "" {
		l[LabelExperiment] = exp
	}
	if role != "" {
		l[LabelRole] = role
	}
	return l
}

func newRunID() string {
	b := make([]byte, 3)
	rand.Read(b)
	return time.Now().UTC().Format("0102-1504") + "-" + hex.EncodeToString(b)
}
