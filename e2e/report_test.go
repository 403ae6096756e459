package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/netchaos/netchaos/experiments"
)

// writeReport writes the run's results (the report package renders them).
func writeReport(dir string, env *experiments.Env, results []experiments.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644)
}
