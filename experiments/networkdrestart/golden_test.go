package networkdrestart

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden scripts in testdata")

// scripts are every node script T3 runs, by golden file name.
func scripts() map[string]string {
	vpc := vpcCIDRsOf(kindNodes)
	return map[string]string{
		"arm-kind-networkd-inactive":     armScript(false, true),
		"arm-eks-networkd-active":        armScript(true, false),
		"restore-kind-networkd-active":   restoreScript(true, true),
		"restore-kind-networkd-inactive": restoreScript(false, true),
		"restore-eks-networkd-active":    restoreScript(true, false),
		"standin-kind":                   standInScript(),
		"ipamd-start":                    ipamdScript(vpc, false),
		"ipamd-restart":                  ipamdScript(vpc, true),
		"cni-on":                         cniOnScript(),
		"cni-off":                        cniOffScript(),
		"peer":                           peerScript(),
		"dropin":                         dropInScript(),
		"unmanaged-kind":                 unmanagedScript([]string{"eni*", eniLink}),
		"newlink":                        newLinkScript(hotLink + "0"),
		"networkd-up":                    networkdUpScript(),
	}
}

// The node scripts, byte for byte: each is compared with
// testdata/<name>.sh.golden (rewritten with -update; review the diff).
func TestNodeScriptsGolden(t *testing.T) {
	for name, got := range scripts() {
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
