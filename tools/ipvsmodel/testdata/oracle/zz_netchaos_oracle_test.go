//go:build linux

// This file is not part of netchaos's module (it lives under testdata, which
// the go tool skips): tools/ipvsmodel copies it into a writable copy of
// k8s.io/kubernetes at pkg/proxy/ipvs (package ipvs), so that it runs
// kube-proxy's own IPVS proxier against the package's fake ipvs, ipset,
// iptables and netlink interfaces. For every node of the scenario it builds
// a proxier named after that node, feeds it the T4 Services and
// EndpointSlices, runs one syncProxyRules and records what the proxier
// programmed: IPVS virtual servers with their real servers, the addresses
// bound to kube-ipvs0, every ipset's entries and iptables-save of the nat
// and filter tables. Nothing here decides an outcome; the recorded
// state is interpreted by netchaos (experiments/trafficpolicy/ipvsmodel.go).
//
//	NETCHAOS_IPVS_SCENARIO=<scenario.json> NETCHAOS_IPVS_STATE=<out.json> \
//	  go test -run TestNetchaosIPVSOracle k8s.io/kubernetes/pkg/proxy/ipvs
package ipvs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kubernetes/pkg/proxy"
	ipsettest "k8s.io/kubernetes/pkg/proxy/ipvs/ipset/testing"
	ipvstest "k8s.io/kubernetes/pkg/proxy/ipvs/util/testing"
	proxyutil "k8s.io/kubernetes/pkg/proxy/util"
	utiliptables "k8s.io/kubernetes/pkg/util/iptables"
	iptablestest "k8s.io/kubernetes/pkg/util/iptables/testing"
	"k8s.io/kubernetes/test/utils/ktesting"
	"k8s.io/utils/ptr"
)

// The scenario, as netchaos writes it (tools/ipvsmodel).
type oracleScenario struct {
	ClusterCIDR   string `json:"clusterCIDR"`
	MasqueradeBit int    `json:"masqueradeBit"`
	Nodes         []struct {
		Name string `json:"name"`
		IP   string `json:"ip"`
	} `json:"nodes"`
	Services []struct {
		Name                  string `json:"name"`
		Namespace             string `json:"namespace"`
		ClusterIP             string `json:"clusterIP"`
		ExternalTrafficPolicy string `json:"externalTrafficPolicy"`
		HealthCheckNodePort   int32  `json:"healthCheckNodePort,omitempty"`
		Ingress               []struct {
			IP     string `json:"ip"`
			IPMode string `json:"ipMode,omitempty"`
		} `json:"ingress"`
		Ports []struct {
			Name       string `json:"name"`
			Protocol   string `json:"protocol"`
			Port       int32  `json:"port"`
			NodePort   int32  `json:"nodePort"`
			TargetPort int32  `json:"targetPort"`
		} `json:"ports"`
	} `json:"services"`
	Endpoints []struct {
		IP   string `json:"ip"`
		Node string `json:"node"`
	} `json:"endpoints"`
}

type oracleRealServer struct {
	Address string `json:"address"`
	Port    uint16 `json:"port"`
	Weight  int    `json:"weight"`
}

type oracleVirtualServer struct {
	Address     string             `json:"address"`
	Port        uint16             `json:"port"`
	Protocol    string             `json:"protocol"`
	Scheduler   string             `json:"scheduler"`
	RealServers []oracleRealServer `json:"realServers"`
}

type oracleNode struct {
	VirtualServers []oracleVirtualServer `json:"virtualServers"`
	// Addresses per interface as the fake netlink handle holds them after
	// the sync: kube-ipvs0 carries the bound service addresses.
	Addresses map[string][]string `json:"addresses"`
	IPSets    map[string][]string `json:"ipsets"`
	// IPTables is iptables-save of the nat and filter tables, one rule a line.
	IPTables map[string][]string `json:"iptables"`
}

func TestNetchaosIPVSOracle(t *testing.T) {
	in, out := os.Getenv("NETCHAOS_IPVS_SCENARIO"), os.Getenv("NETCHAOS_IPVS_STATE")
	if in == "" || out == "" {
		t.Skip("NETCHAOS_IPVS_SCENARIO and NETCHAOS_IPVS_STATE not set")
	}
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var sc oracleScenario
	if err := json.Unmarshal(raw, &sc); err != nil {
		t.Fatal(err)
	}
	nodes := map[string]oracleNode{}
	for _, n := range sc.Nodes {
		nodes[n.Name] = oracleSync(t, sc, n.Name, n.IP)
	}
	b, err := json.MarshalIndent(nodes, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// oracleSync runs one sync of the proxier as node name (address ip) sees it.
func oracleSync(t *testing.T, sc oracleScenario, name, ip string) oracleNode {
	_, ctx := ktesting.NewTestContext(t)
	ipt := iptablestest.NewFake()
	fipvs := ipvstest.NewFake()
	fipset := ipsettest.NewFake(testIPSetVersion)
	fp := NewFakeProxier(ctx, ipt, fipvs, fipset, []string{ip}, nil, v1.IPv4Protocol)
	// What NewProxier sets from kube-proxy's configuration and the node:
	// the node's name decides which endpoints are local, the cluster CIDR
	// is kube-proxy's default local-traffic detector (detectLocalMode
	// ClusterCIDR), and the masquerade mark is 1<<masqueradeBit.
	fp.nodeName = name
	fp.nodeIP = net.ParseIP(ip)
	fp.endpointsChanges = proxy.NewEndpointsChangeTracker(v1.IPv4Protocol, name, nil, nil)
	fp.localDetector = proxyutil.NewDetectLocalByCIDR(sc.ClusterCIDR)
	fp.masqueradeMark = fmt.Sprintf("%#08x", 1<<uint(sc.MasqueradeBit))

	var svcs []*v1.Service
	var slices []*discovery.EndpointSlice
	for _, s := range sc.Services {
		svc := makeTestService(s.Namespace, s.Name, func(svc *v1.Service) {
			svc.Spec.Type = v1.ServiceTypeLoadBalancer
			svc.Spec.ClusterIP = s.ClusterIP
			svc.Spec.ClusterIPs = []string{s.ClusterIP}
			svc.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicy(s.ExternalTrafficPolicy)
			svc.Spec.HealthCheckNodePort = s.HealthCheckNodePort
			for _, p := range s.Ports {
				svc.Spec.Ports = append(svc.Spec.Ports, v1.ServicePort{Name: p.Name, Protocol: v1.Protocol(p.Protocol),
					Port: p.Port, NodePort: p.NodePort, TargetPort: intstr.FromInt32(p.TargetPort)})
			}
			for _, ing := range s.Ingress {
				li := v1.LoadBalancerIngress{IP: ing.IP}
				if ing.IPMode != "" {
					li.IPMode = ptr.To(v1.LoadBalancerIPMode(ing.IPMode))
				}
				svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, li)
			}
		})
		svcs = append(svcs, svc)
		slices = append(slices, makeTestEndpointSlice(s.Namespace, s.Name, 1, func(eps *discovery.EndpointSlice) {
			eps.AddressType = discovery.AddressTypeIPv4
			for _, e := range sc.Endpoints {
				eps.Endpoints = append(eps.Endpoints, discovery.Endpoint{Addresses: []string{e.IP}, NodeName: ptr.To(e.Node),
					Conditions: discovery.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true), Terminating: ptr.To(false)}})
			}
			for _, p := range s.Ports {
				eps.Ports = append(eps.Ports, discovery.EndpointPort{Name: ptr.To(p.Name), Port: ptr.To(p.TargetPort), Protocol: ptr.To(v1.Protocol(p.Protocol))})
			}
		}))
	}
	makeServiceMap(fp, svcs...)
	populateEndpointSlices(fp, slices...)
	fp.syncProxyRules()

	var st oracleNode
	vss, err := fp.ipvs.GetVirtualServers()
	if err != nil {
		t.Fatal(err)
	}
	for _, vs := range vss {
		ov := oracleVirtualServer{Address: vs.Address.String(), Port: vs.Port, Protocol: vs.Protocol, Scheduler: vs.Scheduler, RealServers: []oracleRealServer{}}
		rss, err := fp.ipvs.GetRealServers(vs)
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range rss {
			ov.RealServers = append(ov.RealServers, oracleRealServer{Address: rs.Address.String(), Port: rs.Port, Weight: rs.Weight})
		}
		sort.Slice(ov.RealServers, func(i, j int) bool {
			return fmt.Sprint(ov.RealServers[i]) < fmt.Sprint(ov.RealServers[j])
		})
		st.VirtualServers = append(st.VirtualServers, ov)
	}
	sort.Slice(st.VirtualServers, func(i, j int) bool {
		a, b := st.VirtualServers[i], st.VirtualServers[j]
		return fmt.Sprintf("%s/%s:%05d", a.Protocol, a.Address, a.Port) < fmt.Sprintf("%s/%s:%05d", b.Protocol, b.Address, b.Port)
	})
	st.Addresses = map[string][]string{}
	for _, dev := range []string{"eth0", defaultDummyDevice} {
		addrs, err := fp.netlinkHandle.GetLocalAddresses(dev)
		if err != nil {
			t.Fatal(err)
		}
		st.Addresses[dev] = sets2sorted(addrs.UnsortedList())
	}
	st.IPSets = map[string][]string{}
	names, err := fp.ipset.ListSets()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		ents, err := fp.ipset.ListEntries(n)
		if err != nil {
			t.Fatal(err)
		}
		st.IPSets[n] = sets2sorted(ents)
	}
	st.IPTables = map[string][]string{}
	for _, table := range []utiliptables.Table{utiliptables.TableNAT, utiliptables.TableFilter} {
		var buf bytes.Buffer
		if err := ipt.SaveInto(table, &buf); err != nil {
			t.Fatal(err)
		}
		st.IPTables[string(table)] = strings.Split(strings.TrimSpace(buf.String()), "\n")
	}
	return st
}

func sets2sorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}
