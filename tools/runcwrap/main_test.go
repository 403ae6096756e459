package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPatchCreateAndExec(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"ociVersion":"1.0.2","process":{"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_RESOURCE"],"effective":["CAP_SYS_RESOURCE"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":1024}]}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := patch([]string{"--root", "/run/x", "create", "--bundle", dir, "id"}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if strings.Contains(string(got), capName) || !strings.Contains(string(got), "CAP_CHOWN") || !strings.Contains(string(got), "18446744073709551615") {
		t.Fatalf("config not patched correctly: %s", got)
	}
	proc := filepath.Join(dir, "process.json")
	os.WriteFile(proc, []byte(`{"capabilities":{"bounding":["CAP_SYS_RESOURCE","CAP_NET_ADMIN"]}}`), 0o600)
	if err := patch([]string{"exec", "--process=" + proc, "id"}); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(proc)
	if strings.Contains(string(got), capName) || !strings.Contains(string(got), "CAP_NET_ADMIN") {
		t.Fatalf("process not patched: %s", got)
	}
}
