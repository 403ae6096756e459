// Package experiments is the netchaos library: each experiment deploys a
// workload and probes, injects one documented network failure, and the runner
// measures the outage, captures evidence, verifies the mitigation, cleans up
// and returns a result for the resilience report.
//
// It imports no test framework, so the CLI and other programs can use it.
// Everything it creates carries LabelManagedBy and LabelRun, lives in a
// namespace of its own, and is swept by label (Cleanup).
package experiments
