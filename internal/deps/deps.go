// Package deps pins the project's main dependencies until code imports them.
package deps

import (
	_ "github.com/chaos-mesh/chaos-mesh/api/v1alpha1"
	_ "k8s.io/client-go/kubernetes"
	_ "sigs.k8s.io/e2e-framework/klient"
	_ "sigs.k8s.io/e2e-framework/support/kind"
	_ "sigs.k8s.io/kind/pkg/cluster"
)
