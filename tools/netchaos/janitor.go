package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func janitorCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "janitor",
		Short: "in-cluster dead-man switch: delete a run's namespace at expiry",
		Args:  noArgs,
	}
	ns := cmd.Flags().String("namespace", "", "namespace to delete at expiry")
	at := cmd.Flags().String("at", "", "expiry time, RFC 3339")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		ctx, stderr := cmd.Context(), cmd.ErrOrStderr()
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
		// The janitor's ClusterRole and binding are owned by the namespace:
		// the garbage collector deletes them after it.
		if err := kube.CoreV1().Namespaces().Delete(context.Background(), *ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete namespace %s: %w", *ns, err)
		}
		fmt.Fprintf(stderr, "janitor: run expired, namespace %s deleted\n", *ns)
		return nil
	}
	return cmd
}
