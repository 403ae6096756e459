package experiments

import (
	"testing"
	"time"
)

// A positive control in the default lab beside its twin in a kube-proxy
// profile: the header is the cluster as released, the twin's row names
// its profile.
func TestReportHeaderIsTheClusterOutsideLabProfiles(t *testing.T) {
	released := Environment{KubernetesVersion: "v1.34.2", KubeProxyMode: "iptables", KubeProxyVersion: "v1.34.2"}
	lab := released
	lab.KubeProxyVersion, lab.Lab = "v1.31.14", "kube-proxy-v1.31: kube-proxy v1.31.14 on a v1.34.2 cluster"
	e := &Env{Cluster: lab} // detected last, in the twin's profile
	r := e.Report([]Result{{Name: "x", Environment: released}, {Name: "x", Environment: lab}}, time.Now())
	if r.Environment.KubeProxyVersion != "v1.34.2" {
		t.Errorf("header kube-proxy %q, want the released v1.34.2", r.Environment.KubeProxyVersion)
	}
	if r.Experiments[1].Lab != lab.Lab {
		t.Errorf("the twin's row names its profile: %q", r.Experiments[1].Lab)
	}
	if r := e.Report([]Result{{Name: "x", Environment: lab}}, time.Now()); r.Environment.KubeProxyVersion != "v1.31.14" {
		t.Errorf("a report of lab runs only keeps the detected cluster: %q", r.Environment.KubeProxyVersion)
	}
}
