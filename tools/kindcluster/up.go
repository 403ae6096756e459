package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kind/pkg/cluster"
)

// apiTimeout bounds each API request, so that a dead API server is a
// status line in a wait, not a hang.
const apiTimeout = 15 * time.Second

// cmdUp creates the cluster, or reuses it when it exists and is what was
// asked for: make cluster. Step for step what cluster.sh did:
//   - reuse: kubeconfig context (re)written, cni.sh (quiet: routes are lost
//     when nodes restart), then if reusable lab.sh LAB_PROFILE and the images
//     loaded (failures ignored), else delete;
//   - create: kind create (no wait), cni.sh, the images loading in the
//     background, all nodes Ready, CoreDNS rolled out, metallb.sh, the images
//     loaded, lab.sh unless the profile is default.
func cmdUp(args []string, stdout, stderr io.Writer) error {
	o := &options{}
	fs := pflag.NewFlagSet("up", pflag.ContinueOnError)
	o.addUp(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := o.validateUp(); err != nil {
		return err
	}
	cfg, err := loadConfig(o.config, o.mode)
	if err != nil {
		return err
	}
	if o.config, err = filepath.Abs(o.config); err != nil { // lab.sh gets it too
		return err
	}
	ctx := context.Background()
	if err := dockerAnswers(ctx); err != nil {
		return fmt.Errorf("%v; make docker starts it", err)
	}
	u := &up{o: o, cfg: cfg, p: newProgress(stdout), stderr: stderr, bin: filepath.Join(o.out, "bin")}
	u.sh = newScripts(o, cfg, u.p.t0, stdout, stderr)
	return u.run(ctx)
}

type up struct {
	o      *options
	cfg    *clusterConfig
	p      *progress
	sh     *scripts
	stderr io.Writer
	bin    string
}

func (u *up) run(ctx context.Context) error {
	o := u.o
	if err := u.prepare(); err != nil {
		return err
	}
	var images []string // kubeadm's, MetalLB's and busybox images are preloaded in the node image
	for _, img := range o.images {
		if haveImage(ctx, img) {
			images = append(images, img)
		}
	}
	kind := newProvider(nil)
	found, err := exists(kind, o.name)
	if err != nil {
		return err
	}
	if found {
		reused, err := u.reuse(ctx, kind, images)
		if reused || err != nil {
			return err
		}
	}
	return u.create(ctx, images)
}

// prepare: bin/kubectl for the scripts (the version's kubectl that make images
// built), and bin/kind, which the scripts call.
func (u *up) prepare() error {
	if err := os.MkdirAll(u.bin, 0o755); err != nil {
		return err
	}
	kubectl := filepath.Join(u.bin, "kubectl")
	if err := os.Remove(kubectl); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Symlink(filepath.Join(u.o.out, "k8s", u.o.version, "bin", "kubectl"), kubectl); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(u.bin, "kind")); err != nil {
		return fmt.Errorf("%s/kind is missing (cni.sh and lab.sh call it): go build -o %s/kind sigs.k8s.io/kind", u.bin, u.bin)
	}
	return os.MkdirAll(filepath.Dir(u.o.kubeconfig), 0o755)
}

// reuse reuses the existing cluster when it is what was asked for (true), or
// deletes it (false, so that create makes it anew).
func (u *up) reuse(ctx context.Context, kind *cluster.Provider, images []string) (bool, error) {
	o := u.o
	// (re)write this cluster's context; kind merges, other clusters' contexts stay
	_ = kind.ExportKubeConfig(o.name, o.kubeconfig, false)
	// the static CNI's routes are lost when nodes restart
	_ = u.sh.quiet("cni.sh", o.name, o.kubeconfig, u.cfg.podSubnet, u.cfg.serviceSubnet)
	ok, why := false, ""
	cs, err := clientFor(o.kubeconfig, o.name)
	if err != nil {
		why = err.Error()
	} else {
		ok, why = decide(ctx, cs, want{version: o.version, mode: o.mode, nodes: u.cfg.nodes})
	}
	if ok {
		if err := u.sh.run("lab.sh", o.name, o.kubeconfig, o.labProfile); err != nil {
			return true, err
		}
		if len(images) > 0 {
			_ = loadImages(newFileLogger(io.Discard), o.name, images)
		}
		u.p.log("cluster", "cluster %s already Ready (%s, kube-proxy %s), reused; KUBECONFIG=%s", o.name, o.version, o.mode, o.kubeconfig)
		return true, nil
	}
	u.p.log("cluster", "cluster %s exists but is not reusable (%s): re-creating", o.name, why)
	if err := kind.Delete(o.name, o.kubeconfig); err != nil {
		return false, fmt.Errorf("deleting cluster %s: %s", o.name, kindError(err))
	}
	return false, nil
}

func (u *up) create(ctx context.Context, images []string) error {
	o, cfg := u.o, u.cfg
	raw, err := cfg.yaml()
	if err != nil {
		return err
	}
	cfgFile := filepath.Join(o.out, "kind-config."+o.mode+".yaml") // the config kind got, for the record
	if err := os.WriteFile(cfgFile, raw, 0o644); err != nil {
		return err
	}
	logFile := filepath.Join(o.out, "kind-create.log")
	f, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer f.Close()
	logger := newFileLogger(f)
	u.p.log("cluster", "kind create cluster %s (%s, kube-proxy %s, %d nodes)", o.name, o.version, o.mode, cfg.nodes)
	err = newProvider(logger).Create(o.name,
		cluster.CreateWithV1Alpha4Config(cfg.kind),
		cluster.CreateWithNodeImage(o.nodeImage),
		cluster.CreateWithKubeconfigPath(o.kubeconfig),
		cluster.CreateWithWaitForReady(0))
	if err != nil {
		logError(logger, err)
		u.tail(logFile, 30)
		return fmt.Errorf("kind create cluster failed: %s (log: %s)", kindError(err), logFile)
	}
	u.p.log("cluster", "control plane up")
	if err := u.sh.run("cni.sh", o.name, o.kubeconfig, cfg.podSubnet, cfg.serviceSubnet); err != nil {
		return err
	}
	var loaded chan error
	loadLog := filepath.Join(o.out, "kind-load.log")
	if len(images) > 0 { // in the background while the nodes settle
		lf, err := os.Create(loadLog)
		if err != nil {
			return err
		}
		defer lf.Close()
		u.p.log("cluster", "loading %s", strings.Join(images, " "))
		loaded = make(chan error, 1)
		go func() { loaded <- loadImages(newFileLogger(lf), o.name, images) }()
	}
	cs, err := clientFor(o.kubeconfig, o.name)
	if err != nil {
		return err
	}
	if err := poll(ctx, "nodes not Ready", o.wait, time.Second, nodesReadyCheck(cs, cfg.nodes)); err != nil {
		return err
	}
	u.p.log("cluster", "nodes Ready")
	if err := poll(ctx, "CoreDNS not rolled out", o.wait, time.Second, rolledOutCheck(cs, "kube-system", "coredns")); err != nil {
		return err
	}
	u.p.log("cluster", "CoreDNS ready")
	if err := u.sh.run("metallb.sh", o.name, o.kubeconfig); err != nil {
		return err
	}
	if loaded != nil {
		if err := <-loaded; err != nil {
			u.tail(loadLog, 0)
			return fmt.Errorf("kind load docker-image failed: %s (log: %s)", err, loadLog)
		}
		u.p.log("cluster", "loaded %s", strings.Join(images, " "))
	}
	if o.labProfile != "default" {
		if err := u.sh.run("lab.sh", o.name, o.kubeconfig, o.labProfile); err != nil {
			return err
		}
	}
	u.p.log("cluster", "cluster %s Ready; KUBECONFIG=%s", o.name, o.kubeconfig)
	return nil
}

// tail copies the last n lines of a log (all of it for 0) to stderr.
func (u *up) tail(path string, n int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if n > 0 && len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	fmt.Fprintln(u.stderr, strings.Join(lines, "\n"))
}

// clientFor is a clientset for context kind-<name> of the kubeconfig file.
func clientFor(kubeconfig, name string) (kubernetes.Interface, error) {
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: kubeconfig},
		&clientcmd.ConfigOverrides{CurrentContext: "kind-" + name}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s, context kind-%s: %s", kubeconfig, name, oneLine(err.Error()))
	}
	rc.Timeout = apiTimeout
	return kubernetes.NewForConfig(rc)
}

func newFileLogger(w io.Writer) *fileLogger { return &fileLogger{w: w} }
