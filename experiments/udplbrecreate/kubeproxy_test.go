package udplbrecreate

import "testing"

// An excerpt of kube-proxy v1.34.2's /metrics on a kind node.
const metricsExcerpt = `HTTP/1.0 200 OK
Content-Type: text/plain; version=0.0.4; charset=utf-8

# HELP kubeproxy_conntrack_reconciler_deleted_entries_total [ALPHA] ReconcileConntrackFlowsDeletedEntriesTotal
# TYPE kubeproxy_conntrack_reconciler_deleted_entries_total counter
kubeproxy_conntrack_reconciler_deleted_entries_total{ip_family="IPv4"} 8758
kubeproxy_conntrack_reconciler_deleted_entries_total{ip_family="IPv6"} 2
kubeproxy_conntrack_reconciler_sync_duration_seconds_bucket{ip_family="IPv4",le="0.1"} 60
kubeproxy_conntrack_reconciler_sync_duration_seconds_sum{ip_family="IPv4"} 12.926419745999995
kubeproxy_conntrack_reconciler_sync_duration_seconds_count{ip_family="IPv4"} 65
kubeproxy_sync_proxy_rules_endpoint_changes_total 115
kubeproxy_sync_proxy_rules_endpoint_changes_pending 0
kubeproxy_sync_proxy_rules_service_changes_total 100
`

func TestProxyCounters(t *testing.T) {
	vals, ok := proxyCounters(metricsExcerpt)
	if !ok {
		t.Fatal("no counters found")
	}
	want := []float64{65, 8760, 100, 115}
	for i := range want {
		if vals[i] != want[i] {
			t.Errorf("%s = %g, want %g", counters[i].metric, vals[i], want[i])
		}
	}
	if _, ok := proxyCounters("HTTP/1.0 404 Not Found\n\nnothing here\n"); ok {
		t.Error("counters found in a page without them")
	}
	got := describe(vals, []float64{64, 8760, 98, 114})
	wantText := "conntrack reconciles: 65 (+1 since before the trigger)\nentries they deleted: 8760 (+0 since before the trigger)\n" +
		"Service changes received: 100 (+2 since before the trigger)\nEndpointSlice changes received: 115 (+1 since before the trigger)\n"
	if got != wantText {
		t.Errorf("describe:\n%s\nwant:\n%s", got, wantText)
	}
}
