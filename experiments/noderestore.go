package experiments

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// NodeRestoreDir is where an experiment that changes a node writes, before
// it changes anything, the shell script that puts the node back. The script
// removes itself when done, so a file left here is a node change not yet
// undone: what cleanup runs and what the interrupt test looks for. /run is a
// tmpfs mounted noexec on many nodes: scripts are run with sh.
const NodeRestoreDir = "/run/netchaos/restore.d"

// restoreAll runs every restore script on a node and names each one it ran.
const restoreAll = `for f in ` + NodeRestoreDir + `/*.sh; do [ -f "$f" ] || continue; echo "$f"; sh "$f" || echo "$f failed: $?"; done`

// listNodeChanges names the restore scripts present and the transient
// systemd units (node-side time limits) netchaos armed.
const listNodeChanges = `ls ` + NodeRestoreDir + `/*.sh 2>/dev/null || true
systemctl list-units --all --no-legend --plain 'netchaos-*' 2>/dev/null | awk '{print "unit " $1}'`

// RestoreNodes runs, on every node, every restore script an interrupted run
// left behind, through a short-lived node agent in its own labelled
// namespace. It returns "node: script" for each script it ran.
func (e *Env) RestoreNodes(ctx context.Context) ([]string, error) {
	return e.OnEveryNode(ctx, restoreAll)
}

// NodeLeftovers lists, per node, node changes netchaos has not undone:
// restore scripts still present and netchaos systemd units still loaded.
func (e *Env) NodeLeftovers(ctx context.Context) ([]string, error) {
	return e.OnEveryNode(ctx, listNodeChanges)
}

// OnEveryNode runs a shell script in the host namespaces of every node,
// through a short-lived node agent in its own labelled namespace, and
// returns its non-empty output lines prefixed with the node's name.
func (e *Env) OnEveryNode(ctx context.Context, script string) (out []string, err error) {
	const exp = "node-sweep"
	ns, err := e.Namespace(ctx, exp)
	if err != nil {
		return nil, err
	}
	defer func() {
		if derr := e.DeleteNamespace(context.WithoutCancel(ctx), ns); derr != nil && err == nil {
			err = derr
		}
	}()
	a, err := e.DeployAgent(ctx, ns, exp)
	if err != nil {
		return nil, err
	}
	nodes := make([]string, 0, len(a.pods))
	for n := range a.pods {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		got, err := a.Host(ctx, n, "sh", "-c", script)
		if err != nil {
			return out, fmt.Errorf("node %s: %w", n, err)
		}
		for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
			if l != "" {
				out = append(out, n+": "+l)
			}
		}
	}
	return out, nil
}
