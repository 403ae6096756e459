package main

import (
	"context"
	"fmt"
	"io"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func init() {
	register("agent", "node agent: idle until stopped; the runner execs into it", runAgent)
	register("janitor", "in-cluster dead-man switch: delete a run's namespace at expiry", runJanitor)
}

func runAgent(ctx context.Context, args []string, _, stderr io.Writer) error {
	if err := parse(newFlags("agent", stderr), args); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "agent: ready")
	<-ctx.Done()
	return nil
}

func runJanitor(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("janitor", stderr)
	ns := fs.String("namespace", "", "namespace to delete at expiry")
	at := fs.String("at", "", "expiry time, RFC 3339")
	if err := parse(fs, args); err != nil {
		return err
	}
	when, err := time.Parse(time.RFC3339, *at)
	if *ns == "" || err != nil {
		return usagef("need --namespace and --at in RFC 3339")
	}
	fmt.Fprintf(stderr, "janitor: deleting namespace %s at %s\n", *ns, when.Format(time.RFC3339))
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(time.Until(when)):
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	// The janitor's ClusterRole and binding are owned by the namespace: the
	// garbage collector deletes them after it.
	if err := kube.CoreV1().Namespaces().Delete(context.Background(), *ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete namespace %s: %w", *ns, err)
	}
	fmt.Fprintf(stderr, "janitor: run expired, namespace %s deleted\n", *ns)
	return nil
}
