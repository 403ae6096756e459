// Package manifests holds the Kubernetes manifests that install netchaos in a
// cluster: rbac.yaml, the least privilege the runner needs (a service
// account, its roles and an admission policy that keeps its writes inside
// netchaos runs), and cronjob.yaml, the scheduled game day that runs the
// suite in-cluster and keeps each report in a ConfigMap.
package manifests

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

// RBAC is rbac.yaml: namespace netchaos-system, service account
// netchaos-runner, its roles and bindings, and the guard policy.
//
//go:embed rbac.yaml
var RBAC []byte

// CronJob is cronjob.yaml: the scheduled game day.
//
//go:embed cronjob.yaml
var CronJob []byte

// Namespace and ServiceAccount the manifests install the runner as.
const (
	Namespace      = "netchaos-system"
	ServiceAccount = "netchaos-runner"
)

// Decode parses a multi-document manifest into typed API objects, in file
// order. Unknown kinds and empty documents are errors.
func Decode(manifest []byte) ([]runtime.Object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifest)))
	var out []runtime.Object
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if strings.TrimSpace(stripComments(doc)) == "" {
			return nil, fmt.Errorf("document %d is empty", i)
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		out = append(out, obj)
	}
}

// GameDay is the CronJob of cronjob.yaml running image, as the runner and as
// the probe agent its experiments deploy.
func GameDay(image string) (*batchv1.CronJob, error) {
	objs, err := Decode(CronJob)
	if err != nil {
		return nil, fmt.Errorf("cronjob.yaml: %w", err)
	}
	if len(objs) != 1 {
		return nil, fmt.Errorf("cronjob.yaml: %d objects, want one CronJob", len(objs))
	}
	cj, ok := objs[0].(*batchv1.CronJob)
	if !ok {
		return nil, fmt.Errorf("cronjob.yaml: a %T, want a CronJob", objs[0])
	}
	c := &cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0]
	c.Image = image
	for i, a := range c.Args {
		if strings.HasPrefix(a, "--image=") {
			c.Args[i] = "--image=" + image
		}
	}
	return cj, nil
}

func stripComments(doc []byte) string {
	var b strings.Builder
	for _, l := range strings.Split(string(doc), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && t != "---" {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
