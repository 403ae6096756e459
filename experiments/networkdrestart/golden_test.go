package networkdrestart

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden scripts in testdata")

// The node scripts, byte for byte: each is compared with
// testdata/<name>.sh.golden (rewritten with -update; review the diff).
func TestNodeScriptsGolden(t *testing.T) {
	for name, got := range map[string]string{
		"arm-networkd-active":       armScript(true),
		"arm-networkd-inactive":     armScript(false),
		"restore-networkd-active":   restoreScript(true),
		"restore-networkd-inactive": restoreScript(false),
		"standin-kind":              standInScript("172.18.0.3"),
		"standin-podman":            standInScript("10.89.0.4"),
		"peer":                      peerScript(),
		"dropin":                    dropInScript(),
	} {
		path := filepath.Join("testdata", name+".sh.golden")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./experiments/networkdrestart -update)", err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (run go test ./experiments/networkdrestart -update and review the diff)", name, path)
		}
	}
}
