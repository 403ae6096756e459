package experiments

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netchaos/netchaos/experiments/kube"
	"github.com/netchaos/netchaos/reports"
)

// Report ConfigMaps keep the reports of scheduled runs in the cluster, one
// per run, named ReportPrefix+run ID and labelled LabelReport=true.
//
// A full-suite report.json is about 2 MB, over the API server's 1 MiB limit
// on a ConfigMap, but its timelines compress about 45:1 (2.0 MB → 45 kB), so
// it is stored gzip'ed as binaryData: that is what netchaos reads back (and
// renders as any format). report.md and junit.xml are stored as plain data
// (about 90 kB and 8 kB for the full suite) so that kubectl alone can read
// the verdicts; report.html is left out: it renders from the JSON.
const (
	LabelReport    = "netchaos.io/report"
	ReportPrefix   = "netchaos-report-"
	ReportJSONGzip = "report.json.gz"
	// MaxReportBytes is what a report ConfigMap may hold: the API server's
	// 1 MiB limit less room for metadata.
	MaxReportBytes = 1<<20 - 16<<10
)

// ReportConfigMap is the ConfigMap that keeps report r in namespace ns.
func ReportConfigMap(ns string, r *reports.Report) (*corev1.ConfigMap, error) {
	var js, md, junit bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&js, gzip.BestCompression)
	if err := reports.JSON(zw, r); err != nil {
		return nil, fmt.Errorf("report json: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip report json: %w", err)
	}
	if err := reports.Markdown(&md, r); err != nil {
		return nil, fmt.Errorf("render report.md: %w", err)
	}
	if err := reports.JUnit(&junit, r); err != nil {
		return nil, fmt.Errorf("render junit.xml: %w", err)
	}
	if n := js.Len() + md.Len() + junit.Len(); n > MaxReportBytes {
		return nil, fmt.Errorf("report of run %s is %d bytes compressed, over the %d a ConfigMap holds: keep it with --report-dir on a volume", r.Run.ID, n, MaxReportBytes)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ReportPrefix + r.Run.ID, Namespace: ns,
			Labels:      map[string]string{LabelManagedBy: ManagedBy, LabelReport: "true"},
			Annotations: map[string]string{LabelRun: r.Run.ID, "netchaos.io/context": r.Run.Context}},
		Data:       map[string]string{"report.md": md.String(), "junit.xml": junit.String()},
		BinaryData: map[string][]byte{ReportJSONGzip: js.Bytes()},
	}, nil
}

// ReportFromConfigMap reads the report a ConfigMap keeps.
func ReportFromConfigMap(cm *corev1.ConfigMap) (*reports.Report, error) {
	gz, ok := cm.BinaryData[ReportJSONGzip]
	if !ok {
		return nil, fmt.Errorf("configmap %s/%s holds no %s: not a netchaos report", cm.Namespace, cm.Name, ReportJSONGzip)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("configmap %s/%s: %s: %w", cm.Namespace, cm.Name, ReportJSONGzip, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("configmap %s/%s: %s: %w", cm.Namespace, cm.Name, ReportJSONGzip, err)
	}
	r, err := reports.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("configmap %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	return r, nil
}

// SaveReport keeps r in a ConfigMap in ns and then deletes the oldest report
// ConfigMaps there beyond the newest keep (keep 0: delete none). It returns
// the ConfigMap's name and the names it pruned.
func (e *Env) SaveReport(ctx context.Context, ns string, r *reports.Report, keep int) (string, []string, error) {
	cm, err := ReportConfigMap(ns, r)
	if err != nil {
		return "", nil, err
	}
	cms := e.Kube.CoreV1().ConfigMaps(ns)
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return "", nil, fmt.Errorf("create report configmap %s/%s: %w", ns, cm.Name, err)
	}
	if keep <= 0 {
		return cm.Name, nil, nil
	}
	l, err := cms.List(ctx, metav1.ListOptions{LabelSelector: LabelManagedBy + "=" + ManagedBy + "," + LabelReport + "=true"})
	if err != nil {
		return cm.Name, nil, fmt.Errorf("list report configmaps in %s: %w", ns, err)
	}
	var pruned []string
	for _, old := range PruneOrder(l.Items, keep) {
		if err := kube.IgnoreNotFound(cms.Delete(ctx, old, metav1.DeleteOptions{})); err != nil {
			return cm.Name, pruned, fmt.Errorf("prune report configmap %s/%s: %w", ns, old, err)
		}
		pruned = append(pruned, old)
	}
	return cm.Name, pruned, nil
}

// PruneOrder names the ConfigMaps to delete to keep the newest keep, oldest
// first. Run IDs start with the UTC time, so names break creation-time ties.
func PruneOrder(cms []corev1.ConfigMap, keep int) []string {
	sort.Slice(cms, func(i, j int) bool {
		a, b := cms[i].CreationTimestamp, cms[j].CreationTimestamp
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return cms[i].Name < cms[j].Name
	})
	var out []string
	for i := 0; i < len(cms)-keep; i++ {
		out = append(out, cms[i].Name)
	}
	return out
}

// LoadReport reads the report kept in ConfigMap ns/name.
func (e *Env) LoadReport(ctx context.Context, ns, name string) (*reports.Report, error) {
	cm, err := e.Kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get report configmap %s/%s: %w", ns, name, err)
	}
	return ReportFromConfigMap(cm)
}
