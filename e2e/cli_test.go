package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	. "github.com/onsi/gomega"
)

// cli is the netchaos command the safety specs run as a user would, built
// once per suite run: a go build per spec re-linked it every time (~20 s
// each on a 2-core machine, seven interrupt specs).
var cli struct {
	once sync.Once
	dir  string
	path string
	out  []byte
	err  error
}

// netchaosCLI is the path of the netchaos command built from this tree.
func netchaosCLI(ctx context.Context) string {
	cli.once.Do(func() {
		if cli.dir, cli.err = os.MkdirTemp("", "netchaos-e2e-cli-"); cli.err != nil {
			return
		}
		cli.path = filepath.Join(cli.dir, "netchaos")
		cli.out, cli.err = exec.CommandContext(ctx, "go", "build", "-o", cli.path, "github.com/netchaos/netchaos/tools/netchaos").CombinedOutput()
	})
	Expect(cli.err).NotTo(HaveOccurred(), "go build ./tools/netchaos: %s", cli.out)
	return cli.path
}

// removeCLI deletes the built command (AfterSuite).
func removeCLI() {
	if cli.dir != "" {
		os.RemoveAll(cli.dir)
	}
}
