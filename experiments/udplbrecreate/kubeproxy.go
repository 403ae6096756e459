package udplbrecreate

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/netchaos/netchaos/experiments"
)

// proxyMetrics reads kube-proxy's metrics on the node (hostNetwork agent;
// 127.0.0.1:10249 is kube-proxy's default metricsBindAddress) with bash
// alone: the agent image has no HTTP client.
const proxyMetrics = `exec 3<>/dev/tcp/127.0.0.1/10249 && printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && cat <&3`

// counters are the kube-proxy metrics that show whether its conntrack
// reconciler (v1.32+) ran after the re-create and cleared anything, and
// which Service and EndpointSlice events it had received by then.
var counters = []struct{ metric, label string }{
	{"kubeproxy_conntrack_reconciler_sync_duration_seconds_count", "conntrack reconciles"},
	{"kubeproxy_conntrack_reconciler_deleted_entries_total", "entries they deleted"},
	{"kubeproxy_sync_proxy_rules_service_changes_total", "Service changes received"},
	{"kubeproxy_sync_proxy_rules_endpoint_changes_total", "EndpointSlice changes received"},
}

// proxyCounters picks the counters out of a Prometheus text exposition,
// summed over label sets (IP families); ok is false when none is there.
func proxyCounters(metrics string) (vals []float64, ok bool) {
	vals = make([]float64, len(counters))
	for _, l := range strings.Split(metrics, "\n") {
		f := strings.Fields(l)
		if len(f) < 2 || strings.HasPrefix(l, "#") {
			continue
		}
		name, _, _ := strings.Cut(f[0], "{")
		for i, c := range counters {
			if name == c.metric {
				if v, err := strconv.ParseFloat(f[1], 64); err == nil {
					vals[i] += v
					ok = true
				}
			}
		}
	}
	return vals, ok
}

// describe is the evidence text: each counter, and what it gained since
// base (the node's counters before the trigger) when there is one.
func describe(vals, base []float64) string {
	var b strings.Builder
	for i, c := range counters {
		fmt.Fprintf(&b, "%s: %g", c.label, vals[i])
		if base != nil {
			fmt.Fprintf(&b, " (+%g since before the trigger)", vals[i]-base[i])
		}
		b.WriteString("\n")
	}
	return b.String()
}

// proxyEvidence is kube-proxy's counters on node n. The first reading of a
// run is the base later ones are compared with.
func (t *trial) proxyEvidence(ctx context.Context, r *experiments.Run, n experiments.Node) experiments.Evidence {
	e := experiments.Evidence{Name: "kube-proxy counters on " + n.Name}
	out, err := r.Agent.Run(ctx, n.Name, "timeout", "5", "bash", "-c", proxyMetrics)
	vals, ok := proxyCounters(out)
	if err != nil || !ok {
		e.Text = "no kube-proxy reconciler metrics at 127.0.0.1:10249 (no kube-proxy, another bind address, or a version before v1.32)"
		return e
	}
	e.Text = describe(vals, t.proxyBase[n.Name])
	if t.proxyBase[n.Name] == nil {
		t.proxyBase[n.Name] = vals
	}
	return e
}
