package trafficpolicy

import (
	"strings"
	"testing"
)

// Rules as kube-proxy's fake iptables saves them: some comments unquoted.
var testNAT = []string{
	"*nat",
	":PREROUTING - [0:0]",
	":KUBE-SERVICES - [0:0]",
	":KUBE-LOAD-BALANCER - [0:0]",
	":KUBE-NODE-PORT - [0:0]",
	":KUBE-MARK-MASQ - [0:0]",
	":KUBE-POSTROUTING - [0:0]",
	":POSTROUTING - [0:0]",
	"-A PREROUTING -m comment --comment kubernetes service portals -j KUBE-SERVICES",
	"-A POSTROUTING -m comment --comment kubernetes postrouting rules -j KUBE-POSTROUTING",
	"-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN",
	`-A KUBE-SERVICES -m comment --comment "Kubernetes service lb portal" -m set --match-set KUBE-LOAD-BALANCER dst,dst -j KUBE-LOAD-BALANCER`,
	`-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ`,
	"-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT",
	"-A KUBE-NODE-PORT -p tcp -m set --match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN",
	"-A KUBE-NODE-PORT -p tcp -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ",
	"-A KUBE-LOAD-BALANCER -m set --match-set KUBE-LOAD-BALANCER-LOCAL dst,dst -j RETURN",
	"-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ",
	"-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000",
	"-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN",
	"-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000",
	`-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE`,
	"COMMIT",
}

var testSets = iptEnv{sets: map[string][]string{
	"KUBE-LOAD-BALANCER":       {"172.18.255.201,tcp:80", "172.18.255.202,tcp:80"},
	"KUBE-LOAD-BALANCER-LOCAL": {"172.18.255.202,tcp:80"},
	"KUBE-CLUSTER-IP":          {"10.96.0.1,tcp:80"},
	"KUBE-NODE-PORT-TCP":       {"30001", "30003"},
	"KUBE-NODE-PORT-LOCAL-TCP": {"30003"},
	"KUBE-IPVS-IPS":            {"10.96.0.1", "172.18.255.201"},
	"KUBE-LOOP-BACK":           {"10.244.1.10,tcp:8080,10.244.1.10"},
}}

func TestIPTablesMasquerade(t *testing.T) {
	nat, err := parseIPTables(testNAT)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		p    pkt
		masq bool
	}{
		{"LB IP, policy Cluster", pkt{src: "10.244.2.5", dst: "172.18.255.201", proto: "tcp", dport: 80, dstLocal: true}, true},
		{"LB IP, policy Local", pkt{src: "10.244.2.5", dst: "172.18.255.202", proto: "tcp", dport: 80, dstLocal: true}, false},
		{"LB IP, other port", pkt{src: "10.244.2.5", dst: "172.18.255.201", proto: "tcp", dport: 81, dstLocal: true}, false},
		{"ClusterIP from a pod", pkt{src: "10.244.2.5", dst: "10.96.0.1", proto: "tcp", dport: 80, dstLocal: true}, false},
		{"ClusterIP from the node (source is the VIP)", pkt{src: "10.96.0.1", dst: "10.96.0.1", proto: "tcp", dport: 80, dstLocal: true, srcLocal: true}, true},
		{"ClusterIP over UDP (not in the set)", pkt{src: "10.96.0.1", dst: "10.96.0.1", proto: "udp", dport: 80, dstLocal: true}, false},
		{"NodePort, policy Cluster", pkt{src: "172.18.0.1", dst: "172.18.0.3", proto: "tcp", dport: 30001, dstLocal: true}, true},
		{"NodePort, policy Local", pkt{src: "172.18.0.1", dst: "172.18.0.3", proto: "tcp", dport: 30003, dstLocal: true}, false},
		{"loopback source", pkt{src: "127.0.0.1", dst: "172.18.255.201", proto: "tcp", dport: 80, dstLocal: true}, false},
	} {
		p := c.p
		var trace []string
		if _, err := nat.run("PREROUTING", &p, testSets, &trace); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if _, err := nat.run("POSTROUTING", &p, testSets, &trace); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p.masquerade != c.masq {
			t.Errorf("%s: masquerade %v, want %v (trace %v)", c.name, p.masquerade, c.masq, trace)
		}
	}
}

func TestIPTablesReject(t *testing.T) {
	filter, err := parseIPTables([]string{
		"-A INPUT -m comment --comment kubernetes ipvs access filter -j KUBE-IPVS-FILTER",
		"-A KUBE-IPVS-FILTER -m set --match-set KUBE-LOAD-BALANCER dst,dst -j RETURN",
		"-A KUBE-IPVS-FILTER -m set --match-set KUBE-CLUSTER-IP dst,dst -j RETURN",
		"-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p    pkt
		want string
	}{
		{pkt{src: "10.244.2.5", dst: "172.18.255.201", proto: "tcp", dport: 80}, ""},
		{pkt{src: "10.244.2.5", dst: "172.18.255.201", proto: "tcp", dport: 81}, "REJECT"},
		{pkt{src: "10.244.2.5", dst: "172.18.0.3", proto: "tcp", dport: 81}, ""},
	} {
		var trace []string
		got, err := filter.run("INPUT", &c.p, testSets, &trace)
		if err != nil || got != c.want {
			t.Errorf("%+v: %q %v, want %q", c.p, got, err, c.want)
		}
	}
}

// A match the evaluator does not know fails when a packet reaches it, so a
// new kind of kube-proxy rule can never pass silently.
func TestIPTablesUnknownMatch(t *testing.T) {
	tab, err := parseIPTables([]string{
		"-A OUTPUT -d 10.0.0.0/8 -j RETURN",
		"-A OUTPUT -s 172.18.255.201 -m ipvs --vaddr 172.18.255.201 --vproto tcp --vport 80 -j DROP",
	})
	if err != nil {
		t.Fatal(err)
	}
	var trace []string
	if _, err := tab.run("OUTPUT", &pkt{src: "10.244.1.1", dst: "10.1.1.1"}, testSets, &trace); err != nil {
		t.Errorf("the unknown match was not reached, yet: %v", err)
	}
	_, err = tab.run("OUTPUT", &pkt{src: "172.18.255.201", dst: "192.168.0.1"}, testSets, &trace)
	if err == nil || !strings.Contains(err.Error(), "--vaddr") {
		t.Errorf("unknown match: %v", err)
	}
}

func TestSetEntryMatches(t *testing.T) {
	p := &pkt{src: "10.244.1.10", dst: "10.244.1.10", proto: "tcp", dport: 8080}
	for _, c := range []struct {
		entry, flags string
		want         bool
	}{
		{"10.244.1.10,tcp:8080,10.244.1.10", "dst,dst,src", true},
		{"10.244.1.10,udp:8080,10.244.1.10", "dst,dst,src", false},
		{"10.244.1.10,tcp:8080,10.244.1.11", "dst,dst,src", false},
		{"8080", "dst", true},
		{"10.244.1.10", "src", true},
		{"10.244.1.10,tcp:8080,10.244.0.0/16", "dst,dst,src", true},
		{"10.244.1.10,tcp:8080", "src,dst", true},
	} {
		got, err := setEntryMatches(c.entry, c.flags, p)
		if err != nil || got != c.want {
			t.Errorf("%s %s: %v %v, want %v", c.entry, c.flags, got, err, c.want)
		}
	}
}
