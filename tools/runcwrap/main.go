// Command runcwrap is an OCI runtime shim for hosts whose capability bounding
// set lacks CAP_SYS_RESOURCE (privileged containers then fail with "unable to
// apply caps"). It removes CAP_SYS_RESOURCE from the OCI spec runc is about to
// use — <bundle>/config.json for create/run, the --process file for exec — and
// then execs the real runc with the unchanged arguments. When the capability is
// present in its own bounding set it changes nothing.
//
// Real runc: $RUNCWRAP_RUNC, else the first of /usr/sbin/runc, /usr/bin/runc,
// /usr/local/sbin/runc that is not this program.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const capName = "CAP_SYS_RESOURCE"
const capBit = 24

// valueFlags are runc global flags that take a separate value.
var valueFlags = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}

func main() {
	real, err := realRunc()
	if err != nil {
		fmt.Fprintln(os.Stderr, "runcwrap:", err)
		os.Exit(127)
	}
	if !hasBoundingCap(capBit) {
		if err := patch(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "runcwrap:", err)
			os.Exit(1)
		}
	}
	argv := append([]string{real}, os.Args[1:]...)
	err = syscall.Exec(real, argv, os.Environ())
	fmt.Fprintln(os.Stderr, "runcwrap: exec", real+":", err)
	os.Exit(127)
}

func realRunc() (string, error) {
	if p := os.Getenv("RUNCWRAP_RUNC"); p != "" {
		return p, nil
	}
	self, _ := os.Executable()
	selfInfo, _ := os.Stat(self)
	for _, p := range []string{"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc"} {
		fi, err := os.Stat(p)
		if err != nil || (selfInfo != nil && os.SameFile(fi, selfInfo)) {
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("no real runc found (set RUNCWRAP_RUNC)")
}

// hasBoundingCap reports whether capability bit is in this process's CapBnd.
func hasBoundingCap(bit uint) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err != nil || n&(1<<bit) != 0
		}
	}
	return true
}

// patch finds the spec file the subcommand will read and strips the capability.
func patch(args []string) error {
	sub := -1
	for i := 0; i < len(args); i++ {
		a := args[i]
		if valueFlags[a] {
			i++
			continue
		}
		if !strings.HasPrefix(a, "-") {
			sub = i
			break
		}
	}
	if sub < 0 {
		return nil
	}
	rest := args[sub+1:]
	switch args[sub] {
	case "create", "run":
		bundle := flagValue(rest, "--bundle", "-b")
		if bundle == "" {
			bundle = "."
		}
		return stripFile(filepath.Join(bundle, "config.json"), true)
	case "exec":
		if p := flagValue(rest, "--process", "-p"); p != "" {
			return stripFile(p, false)
		}
	}
	return nil
}

func flagValue(args []string, long, short string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, name := range []string{long, short} {
			if a == name && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v
			}
		}
	}
	return ""
}

// stripFile removes capName from every capability set in an OCI config.json
// (process.capabilities) or process.json (capabilities), keeping numbers intact.
func stripFile(path string, underProcess bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	proc := doc
	if underProcess {
		p, ok := doc["process"].(map[string]any)
		if !ok {
			return nil
		}
		proc = p
	}
	caps, ok := proc["capabilities"].(map[string]any)
	if !ok || !stripCaps(caps) {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := path + ".runcwrap"
	if err := os.WriteFile(tmp, out, fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func stripCaps(caps map[string]any) bool {
	changed := false
	for set, v := range caps {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		kept := list[:0:0]
		for _, c := range list {
			if c == capName {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		caps[set] = kept
	}
	return changed
}
