package networkdrestart

import (
	"embed"
	"strings"
	"text/template"
	"time"

	"github.com/netchaos/netchaos/experiments"
)

// Node-side names of the ENI-like setup. Everything lives under /run (a
// tmpfs: gone with a node reboot too) except the mitigation's drop-in, which
// sits where the real fix goes.
const (
	state       = "/run/netchaos/t3"
	restore     = experiments.NodeRestoreDir + "/networkd-restart.sh"
	peerRestore = experiments.NodeRestoreDir + "/networkd-restart-peer.sh"
	timerUnit   = "netchaos-t3-restore"
	eniLink     = "ncx-eni"
	eniNetwork  = "/run/systemd/network/80-netchaos-eni.network"
	unitDropIn  = "/run/systemd/system/systemd-networkd.service.d/80-netchaos-udev.conf"
	sysfs       = "/run/netchaos-sysfs" // outside state: the restore's rm -rf must never reach a sysfs
	dropIn      = "/etc/systemd/networkd.conf.d/80-netchaos-keep-foreign.conf"
	guardTable  = "netchaos_t3"
	networkdCmd = "systemctl restart systemd-networkd"
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
	State, RestoreDir, Restore, PeerRestore, TimerUnit       string
	ENILink, ENINetwork, ENITable, UnitDropIn, Sysfs, DropIn string
	GuardTable, VPCAddr, NetworkdCmd                         string
	OnActive                                                 int // seconds from arming to the timers
}

// names are this package's node-side names.
var names = nodeNames{
	State: state, RestoreDir: experiments.NodeRestoreDir, Restore: restore, PeerRestore: peerRestore, TimerUnit: timerUnit,
	ENILink: eniLink, ENINetwork: eniNetwork, ENITable: eniTable, UnitDropIn: unitDropIn, Sysfs: sysfs, DropIn: dropIn,
	GuardTable: guardTable, VPCAddr: vpcAddr, NetworkdCmd: networkdCmd,
	OnActive: int((Deadline + time.Minute).Seconds()),
}

// restoreData is the data of restore.sh.tmpl and of arm.sh.tmpl, which
// writes it to the node.
type restoreData struct {
	nodeNames
	NetworkdWasActive bool
}

// standInData is the data of standin.sh.tmpl.
type standInData struct {
	nodeNames
	PeerIP string
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
func armScript(networkdWasActive bool) string {
	return render("arm.sh.tmpl", restoreData{names, networkdWasActive})
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
//     unit drop-in), and the ENI has the udev database entry udev writes.
//   - a link networkd manages. On EKS it manages eth0; here eth0 belongs to
//     Docker (networkd would strip its address), so a veth named ncx-eni,
//     matched by a runtime .network file, is the managed "ENI".
//   - the VPC's drop of packets that leave through the wrong ENI: a
//     forward-hook nftables rule drops packets to the stand-in VPC address
//     whose next hop is not the peer node. No probe ever leaves the cluster,
//     whatever routes networkd leaves behind, and the rule's counter is the
//     evidence of packets sent the wrong way.
//
// Directories it creates are recorded so the restore leaves /run as found.
func standInScript(peerIP string) string {
	return render("standin.sh.tmpl", standInData{names, peerIP})
}

// restoreScript puts the node back exactly as the snapshot had it: the
// stand-ins and our rules and routes gone, every rule and route networkd
// removed re-added, the drop-in removed, networkd stopped again if it was
// not running. The nftables guard goes last, after the routes are back.
func restoreScript(networkdWasActive bool) string {
	return render("restore.sh.tmpl", restoreData{names, networkdWasActive})
}

// peerScript gives the peer node the stand-in VPC service's address, with
// its own restore script and timer written first.
func peerScript() string {
	return render("peer.sh.tmpl", names)
}

// dropInScript is the mitigation: networkd's drop-in that keeps foreign
// rules and routes (its directory recorded for the restore), then the same
// restart as the fault.
func dropInScript() string {
	return render("dropin.sh.tmpl", names)
}
