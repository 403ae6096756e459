package main

import (
	"fmt"
	"net"

	"github.com/aws/amazon-vpc-cni-k8s/pkg/networkutils"

	"github.com/netchaos/netchaos/tools/vpccni/internal/pool"
)

// hostConfig says which of ipamd's node set-up steps (ipamd.go nodeInit) to
// run. Each runs the VPC CNI's own pkg/networkutils code against the node's
// interfaces; what stands in is only where ipamd learns its inputs (IMDS and
// EC2: the primary ENI's MAC and address, the ENI's device number, address and
// subnet), here flags and the interfaces themselves.
type hostConfig struct {
	primaryIf string // the primary ENI (eth0): SetupHostNetwork when set
	eniIf     string // the secondary ENI at -device-number: SetupENINetwork when set
	eniIP     string // its primary address
	eniSubnet string // its subnet; the gateway is the subnet's first address, as in a VPC
}

func (h hostConfig) any() bool { return h.primaryIf != "" || h.eniIf != "" }

// setupHost runs, in ipamd's order:
//   - SetupHostNetwork: the primary ENI's MTU (AWS_VPC_ENI_MTU, 9001), rule
//     1024 "fwmark 0x80/0x80 lookup main", the nat AWS-SNAT-CHAIN-0 and
//     AWS-CONNMARK-CHAIN-0 chains and the mangle CONNMARK rules (needs the
//     iptables command), then CleanUpStaleAWSChains;
//   - SetupENINetwork: the ENI's address, route table deviceNumber+1 (the
//     gateway /32 and a default route via it), rule 32765 "from <ENI IP>";
//   - configureIPRulesForPods: UpdateRuleListBySrc for every restored pod
//     address and UpdateExternalServiceIpRules (rules 1535 from
//     AWS_EXTERNAL_SERVICE_CIDRS; none when unset).
func setupHost(nw networkutils.NetworkAPIs, h hostConfig, vpcCIDRs []string, deviceNumber int, restored []pool.Allocation) error {
	if h.primaryIf != "" {
		mac, ip, err := ifaceMACAndIPv4(h.primaryIf)
		if err != nil {
			return fmt.Errorf("primary ENI: %w", err)
		}
		if err := nw.SetupHostNetwork(vpcCIDRs, mac, &ip, false, false); err != nil {
			return fmt.Errorf("SetupHostNetwork on %s (%s, %s): %w", h.primaryIf, mac, ip, err)
		}
		if err := nw.CleanUpStaleAWSChains(true, false); err != nil {
			return fmt.Errorf("CleanUpStaleAWSChains: %w", err)
		}
	}
	if h.eniIf != "" {
		if h.eniIP == "" || h.eniSubnet == "" {
			return fmt.Errorf("-eni-if %s needs -eni-ip and -eni-subnet", h.eniIf)
		}
		if deviceNumber == 0 {
			return fmt.Errorf("-eni-if %s: device number 0 is the primary ENI, which ipamd never sets up as an ENI", h.eniIf)
		}
		ifc, err := net.InterfaceByName(h.eniIf)
		if err != nil {
			return fmt.Errorf("secondary ENI: %w", err)
		}
		if err := nw.SetupENINetwork(h.eniIP, ifc.HardwareAddr.String(), deviceNumber, 0, h.eniSubnet, 0, false); err != nil {
			return fmt.Errorf("SetupENINetwork on %s (%s, device %d): %w", h.eniIf, h.eniIP, deviceNumber, err)
		}
	}
	rules, err := nw.GetRuleList(false)
	if err != nil {
		return fmt.Errorf("listing ip rules: %w", err)
	}
	for _, a := range restored {
		src := net.IPNet{IP: net.IP(a.IP.AsSlice()), Mask: net.CIDRMask(32, 32)}
		if err := nw.UpdateRuleListBySrc(rules, src); err != nil {
			return fmt.Errorf("UpdateRuleListBySrc %s: %w", a.IP, err)
		}
	}
	if err := nw.UpdateExternalServiceIpRules(rules, nw.GetExternalServiceCIDRs()); err != nil {
		return fmt.Errorf("UpdateExternalServiceIpRules: %w", err)
	}
	return nil
}

// ifaceMACAndIPv4 is what ipamd reads from IMDS for the primary ENI: its MAC
// and its primary private IPv4 address (here the interface's first one).
func ifaceMACAndIPv4(name string) (string, net.IP, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return "", nil, err
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return "", nil, fmt.Errorf("addresses of %s: %w", name, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
			return ifc.HardwareAddr.String(), n.IP.To4(), nil
		}
	}
	return "", nil, fmt.Errorf("%s has no IPv4 address (ipamd's primary IP)", name)
}
