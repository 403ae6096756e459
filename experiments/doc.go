// Package experiments is the netchaos library: each experiment deploys a
// workload and probes, injects one documented network failure, and the runner
// measures the outage, captures evidence, verifies the mitigation, cleans up
// and returns a result for the resilience report.
//
// Two sides meet here. An experiment (Experiment, its Trial) gets a Run: a
// narrow handle on one run, with the cluster's clients and fingerprint, the
// run's namespace, node agent and image, and the record of what its steps
// did (Do, Mark, Event, Capture). The runner side is Env: it connects
// (NewEnv), fingerprints the cluster (Detect), runs an experiment (Execute,
// which builds the handle), sweeps what runs left behind (Cleanup,
// Leftovers, RestoreNodes) and builds and keeps reports (Report,
// SaveReport, LoadReport); none of that is reachable through a Run. The
// generic Kubernetes waits and reads (ready pods, a Service's endpoints, a
// Deployment's scale, exec) are plain functions taking a client in package
// kube, which imports nothing of netchaos.
//
// It imports no test framework, so the CLI and other programs can use it.
// Everything it creates carries LabelManagedBy and LabelRun, lives in a
// namespace of its own, and is swept by label (Cleanup).
package experiments
