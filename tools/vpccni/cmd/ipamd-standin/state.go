package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/netchaos/netchaos/tools/vpccni/internal/pool"
)

// The state file keeps the allocations across restarts of the stand-in, as
// ipamd's checkpoint (/var/run/aws-node/ipam.json) does across ipamd's.

func loadState(path string) ([]pool.Allocation, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	var allocs []pool.Allocation
	if err := json.Unmarshal(b, &allocs); err != nil {
		return nil, fmt.Errorf("state file %s is not a JSON list of allocations: %w", path, err)
	}
	return allocs, nil
}

// saveState writes the file whole, through a rename, so that a crash leaves
// the old state or the new one.
func saveState(path string, allocs []pool.Allocation) error {
	if path == "" {
		return nil
	}
	b, err := json.MarshalIndent(allocs, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ipamd-state-*")
	if err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("saving state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving state: %w", err)
	}
	return nil
}
