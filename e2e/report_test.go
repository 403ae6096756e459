package e2e

import (
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// writeReport writes the run's resilience report (JSON, Markdown, HTML,
// JUnit) to dir.
func writeReport(dir string, env *experiments.Env, results []experiments.Result) error {
	return env.Report(results, time.Now()).WriteDir(dir)
}
