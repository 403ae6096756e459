package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/netchaos/netchaos/manifests"
	"github.com/netchaos/netchaos/probe"
)

// The binary is also the in-cluster agent: experiments, the janitor, the
// game-day CronJob and the e2e suite start it with arguments of their own.
// Each of those argument lists must parse into the values it names.
func TestCallersArgumentsParse(t *testing.T) {
	flowArgs, err := probe.Args(probe.Options{Interval: 100 * time.Millisecond, Timeout: 2 * time.Second},
		probe.Flow{Name: "pinned", Mode: probe.UDPPinned, Target: "$(HOST_IP):8125", LocalPort: 40125},
		probe.Flow{Name: "oneway", Mode: probe.UDPOneWay, Target: "10.96.0.10:162", LocalPort: 40163},
		probe.Flow{Name: "fresh", Mode: probe.UDPFresh, Target: "10.96.0.10:162"},
		probe.Flow{Name: "egress-tcp", Mode: probe.TCPNew, Target: "169.254.1.1:9000"})
	if err != nil {
		t.Fatal(err)
	}
	gameDay, err := manifests.GameDay("registry.example/netchaos:v9")
	if err != nil {
		t.Fatal(err)
	}
	callers := map[string][]string{
		"probe.Args (every experiment's clients)": flowArgs,
		"hostnetworkflip agent":                   {"echo", "--udp", ":8125"},
		"udplbrecreate backends":                  {"echo", "--udp", ":162"},
		"chaosmesh echo":                          {"echo", "--udp", ":9000", "--tcp", ":9000"},
		"trafficpolicy echo":                      {"echo", "--tcp", ":8080", "--udp", ":8080"},
		"networkdrestart vpc-service":             {"echo", "--udp", "169.254.1.1:9000", "--tcp", "169.254.1.1:9000", "--pod", "vpc-service"},
		"trafficpolicy test load balancer":        {"lbproxy", "--listen", ":80", "--own", ":81", "--relay-tcp", "172.18.0.3:30001", "--relay-udp", "172.18.0.3:30002"},
		"node agent":                              {"agent"},
		"janitor":                                 {"janitor", "--namespace", "netchaos-t1-abc", "--at", "2026-12-02T13:00:00Z"},
		"game-day CronJob":                        gameDay.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args,
		"e2e interrupt run": {"run", "--kubeconfig", "/k", "--context", "kind-netchaos", "--image", "netchaos/probe:dev",
			"--experiments", "t1", "--observe", "15s", "--allow-node-disruption", "--report-dir", "/tmp/r"},
		"e2e rbac run":    {"run", "--kubeconfig", "/k", "--context", "kind-netchaos", "--image", "i", "--experiments", "t1,t2", "--observe", "20s", "--gate", "--report-dir", "/tmp/r"},
		"e2e cleanup":     {"cleanup", "--kubeconfig", "/k", "--context", "kind-netchaos", "--image", "i", "--run", "abc"},
		"e2e report":      {"report", "--kubeconfig", "/k", "--context", "c", "--from-configmap", "ns/name", "--format", "json", "--out", "/tmp/r.json"},
		"e2e diff":        {"diff", "--before", "a.json", "--after", "b.json"},
		"netnstest echo":  {"echo", "--udp", ":9000", "--tcp", ":9000", "--pod", "echo", "--ip", "10.99.0.2"},
		"netnstest probe": {"probe", "--rate", "100", "--timeout", "300ms", "--flow", "udp-pinned/udp-pinned/10.99.0.2:9000", "--flow", "tcp-new/tcp-new/10.99.0.2:9000"},
		"rbac-ablate.sh":  {"run", "--kubeconfig", "/k", "--context", "c", "--image", "i", "--experiments", "t1", "--report-dir", "/tmp/r"},
	}
	for caller, args := range callers {
		cmd := parseOnly(t, caller, args)
		if cmd == nil {
			continue
		}
		for name, want := range givenValues(cmd, args[1:]) {
			f := cmd.Flags().Lookup(name)
			got := f.Value.String()
			switch f.Value.Type() {
			case "strings":
				want = []string{strings.Join(want, ",")}
			case "duration": // 30m reads as 30m0s
				d, err := time.ParseDuration(want[len(want)-1])
				if err != nil {
					t.Errorf("%s: --%s %q: %v", caller, name, want[len(want)-1], err)
					continue
				}
				want = []string{d.String()}
			}
			if got != want[len(want)-1] {
				t.Errorf("%s: --%s = %q, want %q", caller, name, got, want[len(want)-1])
			}
		}
	}
	// The flows come back as probe.Args wrote them.
	cmd := parseOnly(t, "probe.Args", flowArgs)
	if got := cmd.Flags().Lookup("flow").Value.String(); strings.Count(got, ",") != 3 {
		t.Errorf("flows %q", got)
	}
	for _, s := range strings.Split(cmd.Flags().Lookup("flow").Value.String(), ",") {
		if _, err := probe.ParseFlow(s); err != nil {
			t.Errorf("flow %q: %v", s, err)
		}
	}
}

// parseOnly finds the command args name and parses its flags, without
// running it; it fails the test when they do not parse or leave arguments.
func parseOnly(t *testing.T, caller string, args []string) *cobra.Command {
	t.Helper()
	cmd, rest, err := newRoot().Find(args)
	if err != nil || cmd.Name() != args[0] {
		t.Errorf("%s: %q finds %v, %v", caller, args, cmd.Name(), err)
		return nil
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("%s: %q: %v", caller, args, err)
		return nil
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		t.Errorf("%s: %q: %v", caller, args, err)
		return nil
	}
	return cmd
}

// givenValues are the values args give each flag, in order, as the flag
// package read them ("--name value", "--name=value", a bare boolean).
func givenValues(cmd *cobra.Command, args []string) map[string][]string {
	out := map[string][]string{}
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(args[i], "--"), "=")
		f := cmd.Flags().Lookup(name)
		switch {
		case f == nil:
			continue
		case !hasValue && f.NoOptDefVal != "":
			value = f.NoOptDefVal
		case !hasValue:
			i++
			value = args[i]
		}
		out[name] = append(out[name], value)
	}
	return out
}

// Every argument list the library builds for the binary spells its flags
// --name with a name the command defines: pflag, unlike the flag package,
// reads -name as shorthand letters. The lists are found in the source:
// calls of Container(name, subcommand, args...) and []string literals that
// start with a subcommand.
func TestLibraryCallsUseDoubleDashFlags(t *testing.T) {
	root := newRoot()
	sub := map[string]*cobra.Command{}
	for _, c := range root.Commands() {
		sub[c.Name()] = c
	}
	found := 0
	check := func(pos token.Position, lits []ast.Expr) {
		if len(lits) == 0 {
			return
		}
		name, ok := stringLit(lits[0])
		cmd := sub[name]
		if !ok || cmd == nil || !slices.Contains([]string{"probe", "echo", "agent", "janitor", "lbproxy"}, name) {
			return
		}
		found++
		for _, e := range lits[1:] {
			s, ok := stringLit(e)
			if b, isCat := e.(*ast.BinaryExpr); isCat {
				s, ok = stringLit(b.X) // "--relay-"+protocol: a prefix
			}
			if !ok || !strings.HasPrefix(s, "-") {
				continue
			}
			flag, _, _ := strings.Cut(strings.TrimPrefix(s, "--"), "=")
			known := cmd.Flags().Lookup(flag) != nil
			if _, isCat := e.(*ast.BinaryExpr); isCat {
				known = false
				cmd.Flags().VisitAll(func(f *pflag.Flag) { known = known || strings.HasPrefix(f.Name, flag) })
			}
			if !strings.HasPrefix(s, "--") || !known {
				t.Errorf("%s: %s %s: not a --flag of %s", pos, name, s, name)
			}
		}
	}
	fset := token.NewFileSet()
	scan := func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Container" && len(n.Args) > 1 {
					check(fset.Position(n.Pos()), n.Args[1:])
				}
			case *ast.CompositeLit:
				if at, ok := n.Type.(*ast.ArrayType); ok {
					if id, ok := at.Elt.(*ast.Ident); ok && id.Name == "string" {
						check(fset.Position(n.Pos()), n.Elts)
					}
				}
			}
			return true
		})
		return nil
	}
	for _, dir := range []string{"../../experiments", "../../probe"} {
		if err := filepath.WalkDir(dir, scan); err != nil {
			t.Fatal(err)
		}
	}
	// echo x6, lbproxy, agent, janitor, probe.Args: the scan must see them.
	if found < 9 {
		t.Errorf("found %d argument lists for the binary in experiments/ and probe/, want at least 9", found)
	}
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}
