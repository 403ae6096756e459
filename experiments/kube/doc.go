// Package kube is the generic Kubernetes toolkit of netchaos: plain,
// context-first functions that take a client and wait for, read or change
// ordinary objects (ready pods, a Service's endpoints, a Deployment's
// scale, a DaemonSet's rollout, a command in a container), in the style of
// the kubernetes e2e framework's pod package. It knows nothing of
// experiments, runs or labels, and imports nothing of netchaos: the
// experiments package and every experiment build on it. Like the rest of
// the library it imports no test framework and logs nothing; its errors
// say what it waited for and what it saw last.
package kube
