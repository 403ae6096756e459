package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/netchaos/netchaos/experiments/catalog"
)

// loadBudgets reads an outage budgets file:
//
//	budgets:
//	  default: 10s                    # every experiment without its own
//	  hostport-to-hostnetwork: 45s
//
// Every bad field is named in the one error returned.
func loadBudgets(path string, chosen []catalog.Entry) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("budgets: %w", err)
	}
	budgets, errs, err := budgetEntries(b)
	if err != nil {
		return nil, fmt.Errorf("budgets %s: %w", path, err)
	}
	known := map[string]bool{"default": true}
	for _, e := range catalog.All() {
		known[e.Name] = true
	}
	keys := make([]string, 0, len(budgets))
	for k := range budgets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d, err := time.ParseDuration(budgets[k])
		switch {
		case !known[k]:
			errs = append(errs, fmt.Errorf("budgets.%s: unknown experiment", k))
		case err != nil || d <= 0:
			errs = append(errs, fmt.Errorf("budgets.%s: %q is not a positive duration like 10s", k, budgets[k]))
		default:
			out[k] = d
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("budgets %s: %w", path, joinOneLine(errs))
	}
	if d, ok := out["default"]; ok {
		for _, e := range chosen {
			if _, own := out[e.Name]; !own {
				out[e.Name] = d
			}
		}
	}
	return out, nil
}

// wantBudgets is the shape of a budgets file, in its own terms.
const wantBudgets = "a top-level 'budgets:' map of experiment: duration"

// budgetEntries reads the experiment: duration entries of a budgets file.
// The shape is checked on the YAML nodes, so that a flat, empty or
// otherwise misshapen file is described in the file's terms (a top-level
// key, a list where a map belongs) and not as the Go type it did not fit.
// err is for a file of the wrong shape; errs name entries that are not a
// single value or are given twice.
func budgetEntries(b []byte) (map[string]string, []error, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		msg := strings.Join(strings.Fields(strings.TrimPrefix(err.Error(), "yaml: ")), " ")
		return nil, nil, fmt.Errorf("not valid YAML: %s (want %s)", msg, wantBudgets)
	}
	if len(doc.Content) == 0 {
		return nil, nil, fmt.Errorf("empty file, expected %s", wantBudgets)
	}
	root := resolve(doc.Content[0])
	if isNull(root) {
		return nil, nil, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("expected %s, got %s", wantBudgets, describe(root))
	}
	var key, m *yaml.Node // budgets: and its value
	var unknown []string
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch {
		case k.Value != "budgets":
			unknown = append(unknown, fmt.Sprintf("%s (line %d)", k.Value, k.Line))
		case key != nil:
			return nil, nil, fmt.Errorf("top-level key budgets given twice (lines %d and %d)", key.Line, k.Line)
		default:
			key, m = k, resolve(v)
		}
	}
	if len(unknown) > 0 {
		hint := ""
		if key == nil {
			hint = " (indent the entries under 'budgets:')"
		}
		keys := "key"
		if len(unknown) > 1 {
			keys = "keys"
		}
		return nil, nil, fmt.Errorf("unknown top-level %s %s: expected %s%s", keys, strings.Join(unknown, ", "), wantBudgets, hint)
	}
	out := map[string]string{}
	if key == nil || isNull(m) {
		return out, nil, nil
	}
	if m.Kind != yaml.MappingNode {
		return nil, nil, fmt.Errorf("budgets (line %d): expected a map of experiment: duration, got %s", key.Line, describe(m))
	}
	var errs []error
	line := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], resolve(m.Content[i+1])
		if l, dup := line[k.Value]; dup {
			errs = append(errs, fmt.Errorf("budgets.%s: given twice (lines %d and %d)", k.Value, l, k.Line))
			continue
		}
		line[k.Value] = k.Line
		if v.Kind != yaml.ScalarNode {
			errs = append(errs, fmt.Errorf("budgets.%s: expected a duration like 10s, got %s", k.Value, describe(v)))
			continue
		}
		if isNull(v) {
			out[k.Value] = ""
		} else {
			out[k.Value] = v.Value
		}
	}
	return out, errs, nil
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names what a YAML node holds, as a person writing the file would.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "something else"
}

// joinOneLine joins errors with "; " so the message stays one line.
func joinOneLine(errs []error) error {
	msg := ""
	for i, e := range errs {
		if i > 0 {
			msg += "; "
		}
		msg += e.Error()
	}
	return errors.New(msg)
}
