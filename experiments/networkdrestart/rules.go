package networkdrestart

import (
	"slices"
	"strconv"
	"strings"
)

// Rule priorities the AWS VPC CNI uses (amazon-vpc-cni-k8s
// pkg/networkutils/network.go): the plugin's per-pod rules and ipamd's node
// rules.
const (
	prefToPod   = 512   // aws-cni: "from all to <podIP> lookup main"
	prefFwmark  = 1024  // ipamd SetupHostNetwork: "from all fwmark 0x80/0x80 lookup main"
	prefFromPod = 1536  // aws-cni, pods on a secondary ENI: "from <podIP> lookup <device+1>"
	prefFromENI = 32765 // ipamd SetupENINetwork: "from <ENI IP> lookup <device+1>"
	vpcFwmark   = "0x80/0x80"
)

// Rule is one line of `ip rule show`.
type Rule struct {
	Pref   int
	From   string // "all" or an address or prefix
	To     string // "" when the rule has no destination selector
	Fwmark string
	Table  string // what it looks up ("main", "2")
	// Line is the rule as `ip rule` prints it after "PREF:", spaces
	// normalised: "from all to 10.0.16.2 lookup main".
	Line string
}

// String is the rule as `ip rule` prints it, on one line with a space after
// the colon.
func (r Rule) String() string { return strconv.Itoa(r.Pref) + ": " + r.Line }

// AddArgs are the `ip rule add` arguments that make the rule again.
func (r Rule) AddArgs() []string {
	return append([]string{"ip", "rule", "add", "pref", strconv.Itoa(r.Pref)}, strings.Fields(r.Line)...)
}

// ParseRules reads `ip rule show` output. Lines it cannot read are skipped.
func ParseRules(out string) []Rule {
	var rules []Rule
	for _, l := range strings.Split(out, "\n") {
		pref, rest, ok := strings.Cut(strings.TrimSpace(l), ":")
		n, err := strconv.Atoi(pref)
		if !ok || err != nil {
			continue
		}
		f := strings.Fields(rest)
		r := Rule{Pref: n, Line: strings.Join(f, " ")}
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "from":
				r.From = f[i+1]
			case "to":
				r.To = f[i+1]
			case "fwmark":
				r.Fwmark = f[i+1]
			case "lookup", "table":
				r.Table = f[i+1]
			}
		}
		rules = append(rules, r)
	}
	return rules
}

// Route is one line of `ip route show table all`.
type Route struct {
	Dst   string // "default" or an address or prefix
	Via   string
	Dev   string
	Table string // "main" when the line names none
	Line  string // spaces normalised
}

// ParseRoutes reads the IPv4 unicast routes of `ip route show table all`:
// the local table, broadcast, multicast and IPv6 routes are skipped.
func ParseRoutes(out string) []Route {
	var routes []Route
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.Contains(f[0], ":") || slices.Contains([]string{"local", "broadcast", "multicast", "anycast", "unreachable", "prohibit", "throw"}, f[0]) {
			continue
		}
		r := Route{Dst: f[0], Table: "main", Line: strings.Join(f, " ")}
		if f[0] == "blackhole" && len(f) > 1 {
			r.Dst = f[1]
		}
		for i := 1; i+1 < len(f); i++ {
			switch f[i] {
			case "via":
				r.Via = f[i+1]
			case "dev":
				r.Dev = f[i+1]
			case "table":
				r.Table = f[i+1]
			}
		}
		if r.Table == "local" {
			continue
		}
		routes = append(routes, r)
	}
	return routes
}

// PodRouting is what the VPC CNI installed for one pod address, read from
// the node's rules and routes: the rules the plugin adds (512 to the pod,
// and for a pod on a secondary ENI 1536 from it to the ENI's table), the
// host route it adds in main, and the routes of the ENI's table, which
// ipamd set up.
type PodRouting struct {
	IP          string
	ToPod       *Rule  // 512: from all to IP lookup main
	FromPod     *Rule  // 1536: from IP lookup <table>; nil on the primary ENI
	HostRoute   *Route // IP dev <host veth> in main
	Table       string // the ENI's route table ("" without FromPod)
	TableRoutes []Route
}

// OnSecondaryENI reports whether the pod's egress is policy-routed to an
// ENI's table: the pods networkd's flush cuts off.
func (p PodRouting) OnSecondaryENI() bool {
	return p.FromPod != nil && p.Table != "" && p.Table != "main"
}

// Rules are the pod's own rules, the ones CNI ADD installs.
func (p PodRouting) Rules() []Rule {
	var out []Rule
	for _, r := range []*Rule{p.ToPod, p.FromPod} {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// PodRoutingOf finds ip's rules and routes in the node's parsed rules and
// routes.
func PodRoutingOf(rules []Rule, routes []Route, ip string) PodRouting {
	p := PodRouting{IP: ip}
	for _, r := range rules {
		switch {
		case r.Pref == prefToPod && r.From == "all" && hostAddr(r.To) == ip && r.Table == "main" && p.ToPod == nil:
			p.ToPod = &r
		case r.Pref == prefFromPod && hostAddr(r.From) == ip && r.To == "" && p.FromPod == nil:
			p.FromPod = &r
			p.Table = r.Table
		}
	}
	for _, rt := range routes {
		switch {
		case rt.Table == "main" && hostAddr(rt.Dst) == ip && rt.Dev != "" && rt.Via == "" && p.HostRoute == nil:
			p.HostRoute = &rt
		case p.Table != "" && rt.Table == p.Table:
			p.TableRoutes = append(p.TableRoutes, rt)
		}
	}
	return p
}

// NodeRules are ipamd's node rules: 1024, the fwmark rule that sends the
// replies of connections that came in on the primary ENI (NodePort) back by
// the main table, and 32765, one per secondary ENI, from its own address.
func NodeRules(rules []Rule) []Rule {
	var out []Rule
	for _, r := range rules {
		if (r.Pref == prefFwmark && r.Fwmark == vpcFwmark && r.Table == "main") || (r.Pref == prefFromENI && r.From != "all") {
			out = append(out, r)
		}
	}
	return out
}

// HasVPCCNIRules reports whether a node's rules are the VPC CNI's: ipamd's
// fwmark rule is there (every VPC CNI node has it, pods or not).
func HasVPCCNIRules(rules []Rule) bool {
	for _, r := range NodeRules(rules) {
		if r.Pref == prefFwmark {
			return true
		}
	}
	return false
}

// Missing are the rules of want that rules lacks.
func Missing(want, rules []Rule) []Rule {
	var out []Rule
	for _, w := range want {
		if !slices.ContainsFunc(rules, func(r Rule) bool { return r.Pref == w.Pref && r.Line == w.Line }) {
			out = append(out, w)
		}
	}
	return out
}

// hostAddr is a as a bare address when it is one or a /32.
func hostAddr(a string) string {
	return strings.TrimSuffix(a, "/32")
}
