package networkdrestart

import (
	"embed"
	"strings"
	"text/template"
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// Node-side names. Everything lives under /run (a tmpfs: gone with a node
// reboot too) except the mitigation's drop-in, which sits where the real fix
// goes, and, on kind, the EKS-like conflist, which sits where containerd
// reads it.
const (
	state       = "/run/netchaos/t3"
	restore     = experiments.NodeRestoreDir + "/networkd-restart.sh"
	peerRestore = experiments.NodeRestoreDir + "/networkd-restart-peer.sh"
	timerUnit   = "netchaos-t3-restore"
	// managedLink is a link networkd manages (kind: a veth matched by a
	// runtime .network file), standing in for the node's primary
	// interface that networkd manages on EKS's Ubuntu/AL2023 nodes.
	managedLink    = "ncx-nd"
	managedNetwork = "/run/systemd/network/80-netchaos-managed.network"
	// hotLink is the new link of the new-link trigger (an ENI attached to
	// a running node, amazon-vpc-cni-k8s#1600): hotLink0 for the trigger,
	// hotLink1 for the same after the drop-in. The managed .network matches
	// them too.
	hotLink = "ncx-hot"
	// unmanagedNetwork is mitigation 4: [Link] Unmanaged=yes for the CNI's
	// links; named to sort before every other .network file.
	unmanagedNetwork = "/run/systemd/network/10-netchaos-cni-unmanaged.network"
	unitDropIn       = "/run/systemd/system/systemd-networkd.service.d/80-netchaos-udev.conf"
	sysfs            = "/run/netchaos-sysfs" // outside state: the restore's rm -rf must never reach a sysfs
	dropIn           = "/etc/systemd/networkd.conf.d/80-netchaos-keep-foreign.conf"
	guardTable       = "netchaos_t3"
	networkdCmd      = "systemctl restart systemd-networkd"

	// The AWS VPC CNI on kind: the real plugins, put on every worker by
	// tools/cluster/cni.sh, the stand-in ipamd, and the secondary ENI's
	// stand-in, a macvlan on eth0 in the subnet below (TEST-NET-1: routed
	// nowhere real). ipamd's formula: gateway = subnet + 1, route table =
	// device number + 1.
	ipamdUnit    = "netchaos-t3-ipamd"
	standinBin   = "/usr/local/bin/ipamd-standin"
	pluginDir    = "/opt/cni/bin"
	conflist     = "/etc/cni/net.d/10-aws.conflist" // sorts before 10-netchaos.conflist: containerd takes the first
	eniLink      = "ncx-eth1"
	eniMAC       = "02:c0:00:02:00:0a" // fixed: the peer's neighbour entry for the ENI stays right from run to run
	eniSubnet    = "192.0.2.0/24"
	eniIP        = "192.0.2.10"
	eniGateway   = "192.0.2.1"
	deviceNumber = "1"
	eniTable     = "2"
)

// The node scripts are the *.sh.tmpl files beside this one, each named by
// its file. TestNodeScriptsGolden holds their output byte for byte.
var (
	//go:embed *.sh.tmpl
	scriptFiles     embed.FS
	scriptTemplates = template.Must(template.ParseFS(scriptFiles, "*.sh.tmpl"))
)

// nodeNames are what every node script names, as its template's fields:
// the constants above and when the restore timers fire.
type nodeNames struct {
	State, RestoreDir, Restore, PeerRestore, TimerUnit                       string
	ManagedLink, ManagedNetwork, UnmanagedNetwork, UnitDropIn, Sysfs, DropIn string
	HotLink                                                                  string
	GuardTable, NetworkdCmd                                                  string
	IpamdUnit, Standin, PluginDir, Conflist                                  string
	ENILink, ENIMAC, ENISubnet, ENIIP, ENIGateway, DeviceNumber, ENITable    string
	OnActive                                                                 int // seconds from arming to the timers
}

// names are this package's node-side names.
var names = nodeNames{
	State: state, RestoreDir: experiments.NodeRestoreDir, Restore: restore, PeerRestore: peerRestore, TimerUnit: timerUnit,
	ManagedLink: managedLink, ManagedNetwork: managedNetwork, HotLink: hotLink, UnmanagedNetwork: unmanagedNetwork, UnitDropIn: unitDropIn, Sysfs: sysfs, DropIn: dropIn,
	GuardTable: guardTable, NetworkdCmd: networkdCmd,
	IpamdUnit: ipamdUnit, Standin: standinBin, PluginDir: pluginDir, Conflist: conflist,
	ENILink: eniLink, ENIMAC: eniMAC, ENISubnet: eniSubnet, ENIIP: eniIP, ENIGateway: eniGateway, DeviceNumber: deviceNumber, ENITable: eniTable,
	OnActive: int((Deadline + time.Minute).Seconds()),
}

// restoreData is the data of restore.sh.tmpl and of arm.sh.tmpl, which
// writes it to the node.
type restoreData struct {
	nodeNames
	NetworkdWasActive bool
	// Kind: the node is a kind node T3 set the VPC CNI up on, and the
	// restore takes all of it away (on EKS the CNI is the cluster's: the
	// restore only puts back what the snapshot had).
	Kind bool
}

// ipamdData is the data of ipamd.sh.tmpl.
type ipamdData struct {
	nodeNames
	VPCCIDRs string // comma-separated
	Restart  bool
}

// unmanagedData is the data of unmanaged.sh.tmpl.
type unmanagedData struct {
	nodeNames
	Links string // networkd [Match] Name= patterns, space-separated
}

// linkData is the data of newlink.sh.tmpl.
type linkData struct {
	nodeNames
	Link string
}

// render executes the named script template. The data are constants and
// values of this file's types, so an error is a bug in a template, which
// TestNodeScriptsGolden catches: render panics, as template.Must does.
func render(name string, data any) string {
	var b strings.Builder
	if err := scriptTemplates.ExecuteTemplate(&b, name, data); err != nil {
		panic(err)
	}
	return b.String()
}

// armScript snapshots the node's rules and routes, writes the restore script
// and schedules it as a transient systemd timer: the fault's time limit,
// enforced by the node itself even if the runner dies. It runs before any
// change, so a crash at any later point leaves a script that undoes it.
func armScript(networkdWasActive, kind bool) string {
	return render("arm.sh.tmpl", restoreData{names, networkdWasActive, kind})
}

// restoreScript puts the node back as the snapshot had it. On kind: the
// stand-in ipamd stopped, the conflist removed, every rule added since the
// snapshot (the plugin's and ipamd's) deleted, ipamd's iptables rules and
// chains deleted, the ENI and the other stand-ins removed. On both: every
// rule and route networkd removed re-added, the drop-in and the .network
// files removed, networkd stopped again if it was not running. The
// nftables guard goes last, after the routes are back.
func restoreScript(networkdWasActive, kind bool) string {
	return render("restore.sh.tmpl", restoreData{names, networkdWasActive, kind})
}

// standInScript gives a kind node what an EKS node has and kind lacks, so
// that a plain networkd restart flushes the rules through networkd's own
// code path:
//   - udev. A kind node's /sys is read-only, which tells networkd it runs in
//     a container without udev; it then configures each link synchronously
//     while it enumerates links, before it has read the rules, so the flush
//     finds no rule to drop (why the first runs here saw no outage). On a
//     host, a link udev has initialised is configured after enumeration,
//     when the rules are known. The stand-in: networkd sees a writable sysfs
//     (a second sysfs mount, bound over /sys for networkd alone by a runtime
//     unit drop-in), and the managed link has the udev database entry udev
//     writes.
//   - a link networkd manages. On EKS it manages eth0; here eth0 belongs to
//     Docker (networkd would strip its address), so a veth matched by a
//     runtime .network file is the managed link.
//   - aws-vpc-cni-init's sysctl: rp_filter 2 (loose) on eth0, as on EKS;
//     kind nodes have strict mode, which drops NodePort requests to a pod
//     whose replies rule 1536 would route out of the ENI.
//   - the secondary ENI: a macvlan on eth0 with its own MAC, on the same
//     Docker network as the peer node, which holds the ENI subnet's gateway
//     address (peerScript). ipamd's own code gives it its address, route
//     table and rule (ipamdScript).
//   - the VPC's source/destination check: a postrouting nftables rule, after
//     NAT, drops a secondary-ENI address leaving by eth0 (a pod's egress
//     once its rule 1536 is gone) and any other address leaving by the ENI
//     (a NodePort reply once rule 1024 is gone and 1536 is back). No probe
//     leaves the machine whatever routes are left, and the counters are the
//     evidence of packets sent the wrong way.
//
// Directories it creates are recorded so the restore leaves /run as found.
func standInScript() string {
	return render("standin.sh.tmpl", names)
}

// ipamdScript starts (or restarts) the stand-in ipamd as a transient
// systemd unit in the node's network namespace, where the plugin dials it,
// and waits until it serves: ipamd's node set-up through the VPC CNI's own
// networkutils (rule 1024, iptables SNAT/CONNMARK on eth0, the ENI's
// address, table and rule 32765), then /32s from the ENI's subnet on device
// 1.
func ipamdScript(vpcCIDRs []string, restart bool) string {
	return render("ipamd.sh.tmpl", ipamdData{names, strings.Join(vpcCIDRs, ","), restart})
}

// cniOnScript installs EKS's 10-aws.conflist, rendered as aws-vpc-cni's
// entrypoint renders it for an IPv4 cluster (MTU: eth0's; logs under
// state), and waits until containerd has loaded it: pods created on the
// node from then on get their network from aws-cni.
func cniOnScript() string { return render("cni-on.sh.tmpl", names) }

// cniOffScript removes the conflist and waits until containerd is back on
// the cluster's own CNI.
func cniOffScript() string { return render("cni-off.sh.tmpl", names) }

// peerScript gives the peer node the stand-in VPC's side of the ENI: the
// subnet's gateway address, and the subnet routed to the ENI's own address
// (the VPC delivers a secondary IP's packets to the ENI that holds it: on
// the ENI, not on eth0), with its own restore script and timer written
// first.
func peerScript() string {
	return render("peer.sh.tmpl", names)
}

// dropInScript is mitigation 3: networkd's drop-in that keeps foreign rules
// and routes (its directory recorded for the restore), then the same
// restart as the fault.
func dropInScript() string {
	return render("dropin.sh.tmpl", names)
}

// unmanagedScript is mitigation 4: instead of the drop-in, a .network file
// that leaves the CNI's links (links) unmanaged, then the fault's restart.
func unmanagedScript(links []string) string {
	return render("unmanaged.sh.tmpl", unmanagedData{names, strings.Join(links, " ")})
}

// newLinkScript is the new-link trigger: a veth named link appears, with
// the udev database entry written before it exists (its ifindex chosen
// free beforehand), so that networkd finds it initialised, as it would
// after udev on a host, and configures it at once: the .network file
// matches it, and configuring a managed link drops every foreign rule.
func newLinkScript(link string) string {
	return render("newlink.sh.tmpl", linkData{names, link})
}

// networkdUpScript starts networkd on a kind node (where it does not run)
// and waits until it has configured the managed link: the new-link
// trigger needs it running before the VPC CNI's rules exist, as on a node
// that booted with it.
func networkdUpScript() string { return render("networkd-up.sh.tmpl", names) }

// restartAWSNode restarts ipamd on an EKS node the way a crashed ipamd
// restarts: its container stopped, kubelet starts it again (no API call
// into kube-system).
const restartAWSNode = "ids=$(crictl ps --name aws-node -q); [ -n \"$ids\" ] || { echo 'no aws-node container on this node' >&2; exit 1; }; crictl stop $ids >/dev/null"
