package trafficpolicy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// A small iptables evaluator for the rules kube-proxy's IPVS proxier
// writes: enough to follow one packet through the nat and filter chains of
// a recorded model (which set of ipsets it hits, whether it is marked for
// masquerade, rejected or dropped). A match it does not know is an error
// when a packet reaches it, never silently true or false, so a future
// kube-proxy that writes new kinds of rules fails the model loudly.

// iptRule is one parsed "-A CHAIN ..." line.
type iptRule struct {
	raw        string
	matches    []iptMatch
	target     string
	targetArgs []string
}

// iptMatch is one condition of a rule.
type iptMatch struct {
	kind string // src, dst, proto, set, dst-type, src-type, mark, ctstate, or unknown:<option>
	neg  bool
	args []string
}

// iptTable is a parsed table: rules by chain, in order.
type iptTable map[string][]iptRule

// parseIPTables reads iptables-save output of one table.
func parseIPTables(lines []string) (iptTable, error) {
	t := iptTable{}
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, ":"):
			name, _, _ := strings.Cut(l[1:], " ")
			if _, ok := t[name]; !ok {
				t[name] = nil
			}
		case strings.HasPrefix(l, "-A "):
			toks, err := splitRule(l)
			if err != nil {
				return nil, err
			}
			r, err := parseRule(toks[2:])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", l, err)
			}
			r.raw = l
			t[toks[1]] = append(t[toks[1]], r)
		}
	}
	return t, nil
}

// splitRule splits a rule into words; a double-quoted string is one word.
// The fake iptables of kube-proxy's tests writes some comments unquoted, so
// the words of a --comment run up to the next option (parseRule).
func splitRule(l string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range l {
		switch {
		case r == '"':
			inQuote, have = !inQuote, true
		case r == ' ' && !inQuote:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unbalanced quote in %q", l)
	}
	if have {
		out = append(out, cur.String())
	}
	return out, nil
}

func isOption(s string) bool { return strings.HasPrefix(s, "-") || s == "!" }

func parseRule(toks []string) (iptRule, error) {
	var r iptRule
	neg := false
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		next := func() (string, error) {
			if i+1 >= len(toks) {
				return "", fmt.Errorf("%s needs an argument", tok)
			}
			i++
			return toks[i], nil
		}
		add := func(kind string, n int) error {
			m := iptMatch{kind: kind, neg: neg}
			for range n {
				a, err := next()
				if err != nil {
					return err
				}
				m.args = append(m.args, a)
			}
			r.matches = append(r.matches, m)
			neg = false
			return nil
		}
		var err error
		switch tok {
		case "!":
			neg = true
		case "-m":
			_, err = next() // the module; its options follow
		case "--comment":
			for i+1 < len(toks) && !isOption(toks[i+1]) {
				i++
			}
		case "-s", "--source":
			err = add("src", 1)
		case "-d", "--destination":
			err = add("dst", 1)
		case "-p", "--protocol":
			err = add("proto", 1)
		case "--match-set":
			err = add("set", 2)
		case "--dst-type":
			err = add("dst-type", 1)
		case "--src-type":
			err = add("src-type", 1)
		case "--mark":
			err = add("mark", 1)
		case "--ctstate":
			err = add("ctstate", 1)
		case "-j":
			r.target, err = next()
			r.targetArgs = toks[i+1:]
			i = len(toks)
		default:
			m := iptMatch{kind: "unknown:" + tok, neg: neg}
			for i+1 < len(toks) && !isOption(toks[i+1]) {
				i++
				m.args = append(m.args, toks[i])
			}
			r.matches = append(r.matches, m)
			neg = false
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// pkt is the first packet of a connection as one node's netfilter sees it.
type pkt struct {
	src, dst string
	proto    string // tcp, udp
	dport    int
	// srcLocal and dstLocal are addrtype LOCAL on this node.
	srcLocal, dstLocal bool
	mark               uint32
	masquerade         bool
}

// iptEnv is what rules look up: the node's ipsets.
type iptEnv struct {
	sets map[string][]string
}

// run follows p through chain; the result is "" when the chain fell
// through (or returned), else the terminal verdict: ACCEPT, DROP, REJECT
// (MASQUERADE accepts and sets p.masquerade). trace collects the rules that
// matched and did something (jumps included), in order.
func (t iptTable) run(chain string, p *pkt, env iptEnv, trace *[]string) (string, error) {
	return t.runDepth(chain, p, env, trace, 0)
}

func (t iptTable) runDepth(chain string, p *pkt, env iptEnv, trace *[]string, depth int) (string, error) {
	if depth > 16 {
		return "", fmt.Errorf("chain %s: jumps nest too deep", chain)
	}
	for _, r := range t[chain] {
		ok, err := r.match(p, env)
		if err != nil {
			return "", fmt.Errorf("%s: %w", r.raw, err)
		}
		if !ok {
			continue
		}
		switch r.target {
		case "RETURN":
			return "", nil
		case "ACCEPT", "DROP", "REJECT":
			*trace = append(*trace, r.raw)
			return r.target, nil
		case "MASQUERADE":
			*trace = append(*trace, r.raw)
			p.masquerade = true
			return "ACCEPT", nil
		case "MARK":
			if err := p.applyMark(r.targetArgs); err != nil {
				return "", fmt.Errorf("%s: %w", r.raw, err)
			}
			*trace = append(*trace, r.raw)
		case "":
		default:
			if _, ok := t[r.target]; !ok {
				return "", fmt.Errorf("%s: unknown target %s", r.raw, r.target)
			}
			*trace = append(*trace, r.raw)
			v, err := t.runDepth(r.target, p, env, trace, depth+1)
			if err != nil || v != "" {
				return v, err
			}
		}
	}
	return "", nil
}

func (p *pkt) applyMark(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("MARK needs an operation")
	}
	v, err := strconv.ParseUint(args[1], 0, 32)
	if err != nil {
		return err
	}
	switch args[0] {
	case "--or-mark":
		p.mark |= uint32(v)
	case "--xor-mark":
		p.mark ^= uint32(v)
	case "--set-mark":
		p.mark = uint32(v)
	default:
		return fmt.Errorf("MARK %s not modelled", args[0])
	}
	return nil
}

func (r iptRule) match(p *pkt, env iptEnv) (bool, error) {
	for _, m := range r.matches {
		ok, err := m.eval(p, env)
		if err != nil {
			return false, err
		}
		if ok == m.neg {
			return false, nil
		}
	}
	return true, nil
}

func (m iptMatch) eval(p *pkt, env iptEnv) (bool, error) {
	switch m.kind {
	case "src":
		return inPrefix(p.src, m.args[0])
	case "dst":
		return inPrefix(p.dst, m.args[0])
	case "proto":
		return strings.EqualFold(m.args[0], p.proto), nil
	case "dst-type", "src-type":
		if m.args[0] != "LOCAL" {
			return false, fmt.Errorf("addrtype %s not modelled", m.args[0])
		}
		if m.kind == "dst-type" {
			return p.dstLocal, nil
		}
		return p.srcLocal, nil
	case "mark":
		vs, ms, ok := strings.Cut(m.args[0], "/")
		v, err := strconv.ParseUint(vs, 0, 32)
		if err != nil {
			return false, err
		}
		mask := uint64(0xffffffff)
		if ok {
			if mask, err = strconv.ParseUint(ms, 0, 32); err != nil {
				return false, err
			}
		}
		return uint64(p.mark)&mask == v, nil
	case "ctstate":
		// The walk follows a connection's first packet.
		for _, s := range strings.Split(m.args[0], ",") {
			if s == "NEW" {
				return true, nil
			}
		}
		return false, nil
	case "set":
		entries, ok := env.sets[m.args[0]]
		if !ok {
			return false, fmt.Errorf("ipset %s not in the recorded state", m.args[0])
		}
		for _, e := range entries {
			hit, err := setEntryMatches(e, m.args[1], p)
			if err != nil {
				return false, fmt.Errorf("ipset %s: %w", m.args[0], err)
			}
			if hit {
				return true, nil
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("match %s %v not modelled", strings.TrimPrefix(m.kind, "unknown:"), m.args)
}

// setEntryMatches matches one ipset entry as ipset prints it (e.g.
// "10.96.0.1,tcp:80", "30080", "10.244.1.5,tcp:8080,10.244.1.5") against
// the packet, field by field in the order of flags ("dst,dst", "src,dst").
func setEntryMatches(entry, flags string, p *pkt) (bool, error) {
	fields, dirs := strings.Split(entry, ","), strings.Split(flags, ",")
	if len(dirs) < len(fields) {
		return false, fmt.Errorf("entry %q has more fields than %q", entry, flags)
	}
	for i, f := range fields {
		addr, port := p.src, 0
		if dirs[i] == "dst" {
			addr, port = p.dst, p.dport
		}
		// Source ports are not modelled: no kube-proxy set matches one.
		switch {
		case strings.Contains(f, ":"):
			proto, ps, _ := strings.Cut(f, ":")
			n, err := strconv.Atoi(ps)
			if err != nil {
				return false, fmt.Errorf("entry %q: %w", entry, err)
			}
			if dirs[i] != "dst" || !strings.EqualFold(proto, p.proto) || n != port {
				return false, nil
			}
		case strings.Contains(f, "/"):
			ok, err := inPrefix(addr, f)
			if err != nil || !ok {
				return false, err
			}
		default:
			if n, err := strconv.Atoi(f); err == nil {
				if dirs[i] != "dst" || n != port {
					return false, nil
				}
				continue
			}
			if f != addr {
				return false, nil
			}
		}
	}
	return true, nil
}

func inPrefix(addr, cidr string) (bool, error) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false, err
	}
	if !strings.Contains(cidr, "/") {
		cidr += "/32"
	}
	pf, err := netip.ParsePrefix(cidr)
	if err != nil {
		return false, err
	}
	return pf.Contains(a), nil
}
