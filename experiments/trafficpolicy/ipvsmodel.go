package trafficpolicy

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// The IPVS rows of the matrix are not written by hand: tools/ipvsmodel runs
// kube-proxy's own IPVS proxier (k8s.io/kubernetes, pkg/proxy/ipvs) against
// its fake ipvs, ipset, iptables and netlink interfaces for the scenario
// below, once per node, and records what it programmed in ipvs/*.json. This
// file holds the recorded state's types; ipvswalk.go turns it into cells.
// No IPVS kernel can be had where this suite is developed, so these rows are
// modelled; on a cluster that runs IPVS the experiment measures them and
// compares them with the model.

// ModelScenario is the T4 topology: what kube-proxy is fed (nodes, Services,
// endpoints, its configuration) and what else is on the network (clients,
// the node-local listener, the test load balancers), which the walk needs.
// It mirrors what the experiment deploys on kind; only the addresses are
// fixed here.
type ModelScenario struct {
	ClusterCIDR   string          `json:"clusterCIDR"`
	MasqueradeBit int             `json:"masqueradeBit"`
	Nodes         []ModelNode     `json:"nodes"`
	Services      []ModelService  `json:"services"`
	Endpoints     []ModelEndpoint `json:"endpoints"`

	ExternalHost string `json:"externalHost"`
	// ClientPods are the probe pods' addresses by node.
	ClientPods map[string]string `json:"clientPods"`
	// ListenerPort has a hostNetwork process on 0.0.0.0 on every worker
	// (TCP and UDP): the seed's node-local listener.
	ListenerPort int `json:"listenerPort"`
	// ClosedPort is a port of the LB address no Service port claims.
	ClosedPort    int           `json:"closedPort"`
	LoadBalancers []ModelTestLB `json:"loadBalancers"`
	// NodeNATRules are the CNI's own nat rules on every node, as
	// iptables-save lines appended after kube-proxy's: the kind lab
	// masquerades pod traffic leaving the pod network (tools/cluster/cni.sh),
	// as kindnet and most CNIs do.
	NodeNATRules []string `json:"nodeNATRules"`
}

// ModelNode is one node; PodGateway is the host side of its pods' links
// (the ptp CNI gives it the first address of the pod range), the address
// MASQUERADE picks for packets it sends to a local pod.
type ModelNode struct {
	Name       string `json:"name"`
	IP         string `json:"ip"`
	PodCIDR    string `json:"podCIDR"`
	PodGateway string `json:"podGateway"`
	Worker     bool   `json:"worker"`
}

// ModelService is a LoadBalancer Service as kube-proxy sees it.
type ModelService struct {
	Name                  string         `json:"name"`
	Namespace             string         `json:"namespace"`
	ClusterIP             string         `json:"clusterIP"`
	ExternalTrafficPolicy string         `json:"externalTrafficPolicy"`
	HealthCheckNodePort   int            `json:"healthCheckNodePort,omitempty"`
	Ingress               []ModelIngress `json:"ingress"`
	Ports                 []ModelPort    `json:"ports"`
}

// ModelIngress is one status.loadBalancer.ingress entry.
type ModelIngress struct {
	IP     string `json:"ip"`
	IPMode string `json:"ipMode,omitempty"`
}

// ModelPort is one Service port.
type ModelPort struct {
	Name       string `json:"name"`
	Protocol   string `json:"protocol"`
	Port       int    `json:"port"`
	NodePort   int    `json:"nodePort"`
	TargetPort int    `json:"targetPort"`
}

// ModelEndpoint is the backend pod (every Service selects it).
type ModelEndpoint struct {
	IP   string `json:"ip"`
	Node string `json:"node"`
}

// ModelTestLB is the test-only load balancer the experiment runs for the
// ipMode: Proxy Services on kind: a pod whose address is the Service's
// ingress IP, relaying the Service port to RelayNode's NodePort (what a
// cloud LB does: under policy Local a node its health check passes, the
// endpoint's; under Cluster any node, here its own, which is no client's)
// and answering on ExtraPort itself (another listener of the LB, the seed's
// CLB :443).
type ModelTestLB struct {
	Service   string `json:"service"`
	Address   string `json:"address"`
	Node      string `json:"node"`
	RelayNode string `json:"relayNode"`
	ExtraPort int    `json:"extraPort"`
}

// IPVSModel is one recorded run of the proxier over the scenario.
type IPVSModel struct {
	Kubernetes string `json:"kubernetes"`
	// Variant says which code ran: the release as shipped, or a control
	// built from it with recorded patches reverting later changes.
	Variant string   `json:"variant"`
	Patches []string `json:"patches,omitempty"`
	// Scenario is what the proxier was fed.
	Scenario ModelScenario `json:"scenario"`
	// Nodes is the proxier's state on each node after one sync.
	Nodes map[string]ProxierState `json:"nodes"`
}

// ProxierState is what the IPVS proxier programmed on one node.
type ProxierState struct {
	VirtualServers []VirtualServer `json:"virtualServers"`
	// Addresses by interface: eth0 (the node's own) and kube-ipvs0 (the
	// service addresses the proxier bound).
	Addresses map[string][]string `json:"addresses"`
	IPSets    map[string][]string `json:"ipsets"`
	// IPTables is iptables-save output of the nat and filter tables.
	IPTables map[string][]string `json:"iptables"`
}

// VirtualServer is one IPVS service and its destinations.
type VirtualServer struct {
	Address     string       `json:"address"`
	Port        int          `json:"port"`
	Protocol    string       `json:"protocol"`
	Scheduler   string       `json:"scheduler"`
	RealServers []RealServer `json:"realServers"`
}

// RealServer is one IPVS destination.
type RealServer struct {
	Address string `json:"address"`
	Port    int    `json:"port"`
	Weight  int    `json:"weight"`
}

// Scenario is the T4 topology the proxier is run over. The names of the
// first two workers and the endpoint's placement follow the experiment:
// the backend on the first worker, none on the second.
func Scenario() ModelScenario {
	ports := func(tcp, udp int) []ModelPort {
		return []ModelPort{
			{Name: "tcp", Protocol: "TCP", Port: port, NodePort: tcp, TargetPort: backend},
			{Name: "udp", Protocol: "UDP", Port: port, NodePort: udp, TargetPort: backend},
		}
	}
	return ModelScenario{
		ClusterCIDR:   "10.244.0.0/16",
		MasqueradeBit: 14,
		Nodes: []ModelNode{
			{Name: "control-plane", IP: "172.18.0.2", PodCIDR: "10.244.0.0/24", PodGateway: "10.244.0.1"},
			{Name: "worker", IP: "172.18.0.3", PodCIDR: "10.244.1.0/24", PodGateway: "10.244.1.1", Worker: true},
			{Name: "worker2", IP: "172.18.0.4", PodCIDR: "10.244.2.0/24", PodGateway: "10.244.2.1", Worker: true},
		},
		Services: []ModelService{
			{Name: "web-cluster", Namespace: "t4", ClusterIP: "10.96.100.1", ExternalTrafficPolicy: "Cluster",
				Ingress: []ModelIngress{{IP: "172.18.255.201"}}, Ports: ports(30001, 30002)},
			{Name: "web-local", Namespace: "t4", ClusterIP: "10.96.100.2", ExternalTrafficPolicy: "Local", HealthCheckNodePort: 32001,
				Ingress: []ModelIngress{{IP: "172.18.255.202"}}, Ports: ports(30003, 30004)},
			{Name: "web-cluster-proxy", Namespace: "t4", ClusterIP: "10.96.100.3", ExternalTrafficPolicy: "Cluster",
				Ingress: []ModelIngress{{IP: "10.244.0.50", IPMode: "Proxy"}}, Ports: ports(30005, 30006)},
			{Name: "web-local-proxy", Namespace: "t4", ClusterIP: "10.96.100.4", ExternalTrafficPolicy: "Local", HealthCheckNodePort: 32002,
				Ingress: []ModelIngress{{IP: "10.244.0.51", IPMode: "Proxy"}}, Ports: ports(30007, 30008)},
		},
		Endpoints:    []ModelEndpoint{{IP: "10.244.1.10", Node: "worker"}},
		ExternalHost: "172.18.0.1",
		ClientPods:   map[string]string{"worker": "10.244.1.20", "worker2": "10.244.2.20"},
		ListenerPort: listenerPort,
		ClosedPort:   closedPort,
		NodeNATRules: []string{"-A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -m addrtype ! --dst-type LOCAL -m comment --comment netchaos-masq -j MASQUERADE"},
		LoadBalancers: []ModelTestLB{
			{Service: "web-cluster-proxy", Address: "10.244.0.50", Node: "control-plane", RelayNode: "control-plane", ExtraPort: closedPort},
			{Service: "web-local-proxy", Address: "10.244.0.51", Node: "control-plane", RelayNode: "worker", ExtraPort: closedPort},
		},
	}
}

// ModelKubernetes is the k8s.io/kubernetes release whose proxier the
// models run.
const ModelKubernetes = "v1.34.2"

// IPVSVariant is one recorded model, the patches (tools/ipvsmodel/patches)
// applied to the proxier for it, and the kube-proxy versions it stands for.
// The boundaries were read from k8s.io/kubernetes's own sources in the Go
// module proxy: the #97081 branch of syncEndpoint is absent in v1.23.17 and
// present in v1.24.0; the KUBE-IPVS-FILTER chain (#108460) is absent in
// v1.25.0 and present in v1.26.0.
type IPVSVariant struct {
	File    string
	Variant string
	Patches []string
	Rule    experiments.Rule
	Label   string
}

// IPVSVariants are the recorded models, newest first.
var IPVSVariants = []IPVSVariant{
	{File: "v1.34.2.json", Variant: "as released",
		Rule: experiments.Rule{ProxyMode: "ipvs", MinMinor: 26}, Label: "IPVS v1.26+ (modelled)"},
	{File: "v1.34.2-before-108460.json", Variant: "control: without #108460 (KUBE-IPVS-FILTER reject)", Patches: []string{"before-108460.patch"},
		Rule: experiments.Rule{ProxyMode: "ipvs", MinMinor: 24, MaxMinor: 25}, Label: "IPVS v1.24-v1.25 (modelled)"},
	{File: "v1.34.2-before-97081.json", Variant: "control: without #97081 and #108460", Patches: []string{"before-97081.patch", "before-108460.patch"},
		Rule: experiments.Rule{ProxyMode: "ipvs", MaxMinor: 23}, Label: "IPVS before v1.24 (modelled)"},
}

//go:embed ipvs/*.json
var ipvsFiles embed.FS

// LoadIPVSModel reads one recorded model (a file name of IPVSVariants).
func LoadIPVSModel(file string) (*IPVSModel, error) {
	b, err := ipvsFiles.ReadFile(path.Join("ipvs", file))
	if err != nil {
		return nil, err
	}
	var m IPVSModel
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &m, nil
}

// ipvsExpected derives the expected table of a recorded model: every cell
// the model decides, with the walk as its reason.
func ipvsExpected(file string) (map[string]want, error) {
	m, err := LoadIPVSModel(file)
	if err != nil {
		return nil, err
	}
	cells, err := m.Cells()
	if err != nil {
		return nil, err
	}
	out := map[string]want{}
	for _, c := range cells {
		if c.Result == NA {
			continue
		}
		out[c.Key()] = want{outcome: c.Outcome(), source: "modelled from kube-proxy " + m.Kubernetes + " (" + m.Variant + "): " + c.Note}
	}
	return out, nil
}

// ModelResult is a recorded model as a suite result: the modelled matrix,
// judged as a measured one is, for reports and for `netchaos diff` against
// measured runs. Its environment says it is modelled.
func ModelResult(m *IPVSModel, v IPVSVariant, at time.Time) (experiments.Result, error) {
	cells, err := m.Cells()
	if err != nil {
		return experiments.Result{}, err
	}
	minor := v.Rule.MinMinor
	if minor == 0 {
		minor = v.Rule.MaxMinor
	}
	var nodes []experiments.Node
	for _, n := range m.Scenario.Nodes {
		nodes = append(nodes, experiments.Node{Name: n.Name, IP: n.IP, PodCIDR: n.PodCIDR, ControlPlane: !n.Worker})
	}
	env := experiments.Environment{
		Provider: "kind (modelled)", KubernetesVersion: v.Label, Minor: minor, KubeProxyMode: "ipvs",
		CNI: "netchaos-static (ptp+portmap)", Nodes: nodes,
		Notes: []string{
			"modelled, not measured: kube-proxy " + m.Kubernetes + "'s IPVS proxier (" + m.Variant + ") run against its own fakes by tools/ipvsmodel; " +
				"each cell is a walk of the recorded virtual servers, kube-ipvs0 addresses, ipsets and iptables rules (experiments/trafficpolicy/ipvswalk.go)",
		},
	}
	res := experiments.Result{Name: Name, Environment: env, Started: at, Finished: at, Applicable: true, Info: New().Info()}
	res.Info.Trigger = "none: modelled matrix (" + v.Label + ")"
	// The walk goes into Source, not Observed, so that `netchaos diff`
	// against a measured run lists the cells whose outcome differs.
	var walks []string
	for i := range cells {
		if cells[i].Result == NA {
			walks = append(walks, "")
			continue
		}
		walks = append(walks, cells[i].Note)
		cells[i].Note = ""
	}
	res.Cells = judgeCells(cells, nil)
	for i := range res.Cells {
		if walks[i] != "" {
			res.Cells[i].Source = "walk: " + walks[i]
		}
	}
	return res, nil
}

// sortedKeys is for stable output.
func sortedKeys[V any](m map[string]V) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
