package experiments

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

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

// SaveReport creates the run's ConfigMap and prunes the oldest beyond keep,
// leaving other ConfigMaps alone.
func TestSaveReportPrunes(t *testing.T) {
	r, err := reports.Load("../reports/examples/kind-v1.34.2-iptables/report.json")
	if err != nil {
		t.Fatal(err)
	}
	old := func(id string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ReportPrefix + id, Namespace: "ns",
			Labels: map[string]string{LabelManagedBy: ManagedBy, LabelReport: "true"}}}
	}
	other := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "ns"}}
	kube := fake.NewClientset(old("0101-0000-aaaaaa"), old("0102-0000-bbbbbb"), old("0103-0000-cccccc"), other)
	e := &Env{Kube: kube}
	r.Run.ID = "1231-2359-ffffff"
	name, pruned, err := e.SaveReport(t.Context(), "ns", r, 2)
	if err != nil {
		t.Fatal(err)
	}
	if name != ReportPrefix+r.Run.ID || !reflect.DeepEqual(pruned, []string{ReportPrefix + "0101-0000-aaaaaa", ReportPrefix + "0102-0000-bbbbbb"}) {
		t.Errorf("saved %s, pruned %v", name, pruned)
	}
	l, _ := kube.CoreV1().ConfigMaps("ns").List(t.Context(), metav1.ListOptions{})
	var left []string
	for _, cm := range l.Items {
		left = append(left, cm.Name)
	}
	if want := []string{ReportPrefix + "0103-0000-cccccc", ReportPrefix + r.Run.ID, "settings"}; !reflect.DeepEqual(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	back, err := e.LoadReport(t.Context(), "ns", name)
	if err != nil || back.Run.ID != r.Run.ID {
		t.Errorf("load back: %v, %v", back, err)
	}
}
