package experiments

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netchaos/netchaos/reports"
)

// The full suite's real report (2 MB of JSON) fits one ConfigMap and comes
// back out unchanged.
func TestReportConfigMapRoundTrip(t *testing.T) {
	r, err := reports.Load("../reports/examples/kind-v1.34.2-iptables/report.json")
	if err != nil {
		t.Fatal(err)
	}
	cm, err := ReportConfigMap("netchaos-system", r)
	if err != nil {
		t.Fatal(err)
	}
	if want := ReportPrefix + r.Run.ID; cm.Name != want || cm.Namespace != "netchaos-system" {
		t.Errorf("name %s/%s, want netchaos-system/%s", cm.Namespace, cm.Name, want)
	}
	if cm.Labels[LabelManagedBy] != ManagedBy || cm.Labels[LabelReport] != "true" {
		t.Errorf("labels %v", cm.Labels)
	}
	size := len(cm.BinaryData[ReportJSONGzip])
	for _, v := range cm.Data {
		size += len(v)
	}
	if size > MaxReportBytes {
		t.Errorf("%d bytes, over %d", size, MaxReportBytes)
	}
	if !strings.Contains(cm.Data["report.md"], r.Experiments[0].Name) || !strings.Contains(cm.Data["junit.xml"], "<testsuite") {
		t.Errorf("report.md or junit.xml missing the experiments")
	}
	back, err := ReportFromConfigMap(cm)
	if err != nil {
		t.Fatal(err)
	}
	// Compare through JSON: times lose their monotonic clock on the way.
	var a, b strings.Builder
	reports.JSON(&a, r)
	reports.JSON(&b, back)
	if a.String() != b.String() {
		t.Error("report changed on the way through the ConfigMap")
	}
	t.Logf("report.json %d bytes in the ConfigMap as %d gzip'ed; total %d", a.Len(), len(cm.BinaryData[ReportJSONGzip]), size)
}

func TestReportFromConfigMapRefusesOthers(t *testing.T) {
	for _, cm := range []*corev1.ConfigMap{
		{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy"}, Data: map[string]string{"config.conf": "x"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "bad"}, BinaryData: map[string][]byte{ReportJSONGzip: []byte("not gzip")}},
	} {
		if _, err := ReportFromConfigMap(cm); err == nil || !strings.Contains(err.Error(), cm.Name) {
			t.Errorf("%s: error %v, want one naming the configmap", cm.Name, err)
		}
	}
}

func TestPruneOrderKeepsTheNewest(t *testing.T) {
	at := func(name string, min int) corev1.ConfigMap {
		return corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(min) * time.Minute))}}
	}
	cms := []corev1.ConfigMap{at("c", 3), at("a", 1), at("e", 5), at("b2", 2), at("b1", 2), at("d", 4)}
	if got, want := PruneOrder(cms, 2), []string{"a", "b1", "b2", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("prune %v, want %v", got, want)
	}
	if got := PruneOrder(cms, 10); len(got) != 0 {
		t.Errorf("prune %v with fewer than keep", got)
	}
}
