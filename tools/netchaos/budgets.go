package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// loadBudgets reads an outage budgets file:
//
//	budgets:
//	  default: 10s                    # every experiment without its own
//	  hostport-to-hostnetwork: 45s
//
// Every bad field is named in the one error returned.
func loadBudgets(path string, chosen []entry) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("budgets: %w", err)
	}
	var f struct {
		Budgets map[string]string `yaml:"budgets"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "yaml: unmarshal errors:", "")), " ")
		return nil, fmt.Errorf("budgets %s: %s (want a top-level 'budgets:' map of experiment: duration)", path, msg)
	}
	known := map[string]bool{"default": true}
	for _, e := range catalog() {
		known[e.name] = true
	}
	var errs []error
	keys := make([]string, 0, len(f.Budgets))
	for k := range f.Budgets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d, err := time.ParseDuration(f.Budgets[k])
		switch {
		case !known[k]:
			errs = append(errs, fmt.Errorf("budgets.%s: unknown experiment", k))
		case err != nil || d <= 0:
			errs = append(errs, fmt.Errorf("budgets.%s: %q is not a positive duration like 10s", k, f.Budgets[k]))
		default:
			out[k] = d
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("budgets %s: %w", path, joinOneLine(errs))
	}
	if d, ok := out["default"]; ok {
		for _, e := range chosen {
			if _, own := out[e.name]; !own {
				out[e.name] = d
			}
		}
	}
	return out, nil
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
