package trafficpolicy

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"strings"
)

// NotApplicable names matrix rows that could not be measured, and why.
type NotApplicable struct{ Rows, Why string }

// kernelIPVS reports whether the running kernel has IPVS: /proc/net/ip_vs
// exists once it is loaded; otherwise the kernel's own configuration says
// whether it is built in or a module. detail says what was found.
func kernelIPVS() (ok bool, detail string) {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		return true, "/proc/net/ip_vs present"
	}
	f, err := os.Open("/proc/config.gz")
	if err != nil {
		return false, "no /proc/net/ip_vs; kernel configuration not readable"
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return false, "no /proc/net/ip_vs; /proc/config.gz unreadable"
	}
	return configHasIPVS(z)
}

// configHasIPVS reads a kernel .config.
func configHasIPVS(r io.Reader) (bool, string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		switch l := sc.Text(); {
		case l == "CONFIG_IP_VS=y":
			return true, "CONFIG_IP_VS=y"
		case l == "CONFIG_IP_VS=m":
			return true, "CONFIG_IP_VS=m (module, not loaded)"
		case strings.HasPrefix(l, "# CONFIG_IP_VS is not set"):
			return false, "CONFIG_IP_VS is not set"
		}
	}
	return false, "CONFIG_IP_VS absent from the kernel configuration"
}
