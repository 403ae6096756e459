package networkdrestart

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixture reads a recorded `ip rule` / `ip route show table all` of a node
// the real VPC CNI plugin set up (testdata/vpccni, from
// tools/vpccni/netns-test.sh --record).
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vpccni", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseRulesOfAVPCCNINode(t *testing.T) {
	got := ParseRules(fixture(t, "02-add.ip-rule.txt"))
	want := []Rule{
		{Pref: 0, From: "all", Table: "local", Line: "from all lookup local"},
		{Pref: 512, From: "all", To: "10.0.16.2", Table: "main", Line: "from all to 10.0.16.2 lookup main"},
		{Pref: 1024, From: "all", Fwmark: "0x80/0x80", Table: "main", Line: "from all fwmark 0x80/0x80 lookup main"},
		{Pref: 1536, From: "10.0.16.2", Table: "2", Line: "from 10.0.16.2 lookup 2"},
		{Pref: 32765, From: "10.0.16.10", Table: "2", Line: "from 10.0.16.10 lookup 2"},
		{Pref: 32766, From: "all", Table: "main", Line: "from all lookup main"},
		{Pref: 32767, From: "all", Table: "default", Line: "from all lookup default"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseRules:\n got %+v\nwant %+v", got, want)
	}
	if got[1].String() != "512: from all to 10.0.16.2 lookup main" {
		t.Errorf("String: %q", got[1].String())
	}
	if a := strings.Join(got[3].AddArgs(), " "); a != "ip rule add pref 1536 from 10.0.16.2 lookup 2" {
		t.Errorf("AddArgs: %q", a)
	}
	if a := addScript(got[1:4:4][1:]); a != "ip rule add pref 1024 from all fwmark 0x80/0x80 lookup main && ip rule add pref 1536 from 10.0.16.2 lookup 2" {
		t.Errorf("addScript: %q", a)
	}
	if addScript(nil) != "" {
		t.Error("addScript of no rules")
	}
}

func TestParseRoutesSkipsLocalAndIPv6(t *testing.T) {
	got := ParseRoutes(fixture(t, "02-add.ip-route.txt"))
	want := []Route{
		{Dst: "default", Via: "10.0.16.1", Dev: "eth1", Table: "2", Line: "default via 10.0.16.1 dev eth1 table 2"},
		{Dst: "10.0.16.1", Dev: "eth1", Table: "2", Line: "10.0.16.1 dev eth1 table 2 scope link"},
		{Dst: "default", Via: "10.0.0.1", Dev: "eth0", Table: "main", Line: "default via 10.0.0.1 dev eth0"},
		{Dst: "10.0.0.0/24", Dev: "eth0", Table: "main", Line: "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.10"},
		{Dst: "10.0.16.2", Dev: "eni9905da8fba2", Table: "main", Line: "10.0.16.2 dev eni9905da8fba2 scope link"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseRoutes:\n got %+v\nwant %+v", got, want)
	}
}

// The EKS path: the victim's rules and ENI table as the real plugin and
// ipamd left them, found from its address alone.
func TestPodRoutingOnASecondaryENI(t *testing.T) {
	rules, routes := ParseRules(fixture(t, "02-add.ip-rule.txt")), ParseRoutes(fixture(t, "02-add.ip-route.txt"))
	p := PodRoutingOf(rules, routes, "10.0.16.2")
	if !p.OnSecondaryENI() || p.Table != "2" {
		t.Fatalf("pod 10.0.16.2 is on device 1 (table 2): got %+v", p)
	}
	if p.ToPod == nil || p.ToPod.String() != "512: from all to 10.0.16.2 lookup main" {
		t.Errorf("rule 512: %+v", p.ToPod)
	}
	if p.FromPod == nil || p.FromPod.String() != "1536: from 10.0.16.2 lookup 2" {
		t.Errorf("rule 1536: %+v", p.FromPod)
	}
	if p.HostRoute == nil || p.HostRoute.Dev != "eni9905da8fba2" {
		t.Errorf("host route: %+v", p.HostRoute)
	}
	if len(p.TableRoutes) != 2 || p.TableRoutes[0].Line != "default via 10.0.16.1 dev eth1 table 2" {
		t.Errorf("table 2: %+v", p.TableRoutes)
	}
	if got := len(p.Rules()); got != 2 {
		t.Errorf("Rules: %d, want 512 and 1536", got)
	}
	// Another address on the node has none of them: not this pod's.
	if o := PodRoutingOf(rules, routes, "10.0.16.3"); o.ToPod != nil || o.FromPod != nil || o.HostRoute != nil || o.OnSecondaryENI() {
		t.Errorf("10.0.16.3 is no pod here: %+v", o)
	}
	// After DEL the plugin's rules and route are gone, ipamd's stay.
	del := PodRoutingOf(ParseRules(fixture(t, "03-del.ip-rule.txt")), ParseRoutes(fixture(t, "03-del.ip-route.txt")), "10.0.16.2")
	if del.ToPod != nil || del.FromPod != nil || del.HostRoute != nil {
		t.Errorf("after DEL: %+v", del)
	}
}

// A pod on the primary ENI has rule 512 and no 1536: egress by main,
// which networkd's flush does not change.
func TestPodRoutingOnThePrimaryENI(t *testing.T) {
	rules := ParseRules("0:\tfrom all lookup local\n512:\tfrom all to 10.0.0.7 lookup main\n1024:\tfrom all fwmark 0x80/0x80 lookup main\n32766:\tfrom all lookup main\n")
	p := PodRoutingOf(rules, ParseRoutes("10.0.0.7 dev eni1234567890a scope link\n"), "10.0.0.7")
	if p.OnSecondaryENI() || p.ToPod == nil || p.HostRoute == nil {
		t.Errorf("primary-ENI pod: %+v", p)
	}
}

func TestNodeRulesAndDetection(t *testing.T) {
	for _, f := range []string{"01-host-setup.ip-rule.txt", "02-add.ip-rule.txt", "03-del.ip-rule.txt"} {
		rules := ParseRules(fixture(t, f))
		n := NodeRules(rules)
		if len(n) != 2 || n[0].String() != "1024: from all fwmark 0x80/0x80 lookup main" || n[1].String() != "32765: from 10.0.16.10 lookup 2" {
			t.Errorf("%s: ipamd's rules: %v", f, n)
		}
		if !HasVPCCNIRules(rules) {
			t.Errorf("%s: a VPC CNI node", f)
		}
	}
	if HasVPCCNIRules(ParseRules("0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n")) {
		t.Error("a node with the default rules only is no VPC CNI node")
	}
}

// What networkd's flush leaves: every foreign rule gone.
func TestMissing(t *testing.T) {
	before := ParseRules(fixture(t, "02-add.ip-rule.txt"))
	p := PodRoutingOf(before, nil, "10.0.16.2")
	want := append(p.Rules(), NodeRules(before)...)
	flushed := ParseRules("0:\tfrom all lookup local\n32766:\tfrom all lookup main\n32767:\tfrom all lookup default\n")
	if got := Missing(want, flushed); len(got) != 4 {
		t.Errorf("flushed: missing %v, want all four", got)
	}
	if got := Missing(want, before); len(got) != 0 {
		t.Errorf("untouched: missing %v", got)
	}
	// The rules as ip prints them after the runtime re-adds them by hand
	// (tabs, spacing) are the same rules.
	readded := ParseRules("0:  from all lookup local\n512:   from all to 10.0.16.2 lookup main\n1536:\tfrom 10.0.16.2 lookup 2 \n")
	if got := Missing(p.Rules(), readded); len(got) != 0 {
		t.Errorf("re-added: missing %v", got)
	}
}
