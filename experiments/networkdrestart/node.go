package networkdrestart

import (
	"fmt"
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

// armScript snapshots the node's rules and routes, writes the restore script
// and schedules it as a transient systemd timer: the fault's time limit,
// enforced by the node itself even if the runner dies. It runs before any
// change, so a crash at any later point leaves a script that undoes it.
func armScript(networkdWasActive bool) string {
	return fmt.Sprintf(`set -e
systemctl stop %[1]s.timer 2>/dev/null || true
mkdir -p %[2]s %[3]s
ip rule show > %[2]s/rules.before
ip route show table all | grep -vE '^(local|broadcast) |table local' > %[2]s/routes.before
cat > %[4]s <<'SCRIPT'
%[5]s
SCRIPT
systemd-run --unit %[1]s --on-active=%[6]d --timer-property=AccuracySec=1s /bin/sh %[4]s >/dev/null`,
		timerUnit, state, experiments.NodeRestoreDir, restore, restoreScript(networkdWasActive), int((Deadline + time.Minute).Seconds()))
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
	return fmt.Sprintf(`set -e
for d in /run/udev /run/udev/data $(dirname %[1]s) $(dirname %[2]s) %[8]s; do
  [ -d $d ] || { mkdir $d && echo $d >> %[7]s/dirs.created; }
done
mountpoint -q %[8]s || mount -t sysfs sysfs %[8]s
mount -o remount,rw %[8]s
printf '[Service]\nBindPaths=%[8]s:/sys\n' > %[1]s
systemctl daemon-reload
ip link show %[3]s >/dev/null 2>&1 || ip link add %[3]s type veth peer name %[3]s-peer
ip link set %[3]s up && ip link set %[3]s-peer up
udevdb=/run/udev/data/n$(cat /sys/class/net/%[3]s/ifindex)
printf 'I:%%s\nV:1\n' "$(awk '{printf "%%d", $1 * 1000000}' /proc/uptime)" > $udevdb
echo $udevdb > %[7]s/udevdb
printf '[Match]\nName=%[3]s\n\n[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\nConfigureWithoutCarrier=yes\n' > %[2]s
nft -f - <<'NFT'
table ip %[4]s {
  chain forward {
    type filter hook forward priority -300; policy accept;
    ip daddr %[5]s rt nexthop != %[6]s counter drop comment "stand-in VPC: wrong ENI"
  }
}
NFT`, unitDropIn, eniNetwork, eniLink, guardTable, vpcAddr, peerIP, state, sysfs)
}

// restoreScript puts the node back exactly as the snapshot had it: the
// stand-ins and our rules and routes gone, every rule and route networkd
// removed re-added, the drop-in removed, networkd stopped again if it was
// not running. The nftables guard goes last, after the routes are back.
func restoreScript(networkdWasActive bool) string {
	stop := "systemctl stop systemd-networkd.service systemd-networkd.socket 2>/dev/null || true"
	if networkdWasActive {
		stop = "systemctl restart systemd-networkd.service || true"
	}
	return fmt.Sprintf(`#!/bin/sh
# netchaos T3: restore the node's routing state (idempotent).
while ip rule del pref 1536 table %[1]s 2>/dev/null; do :; done
while ip rule del pref 512 lookup main 2>/dev/null; do :; done
ip route flush table %[1]s 2>/dev/null || true
rm -f %[2]s %[3]s %[4]s $(cat %[7]s/udevdb 2>/dev/null)
ip link del %[5]s 2>/dev/null || true
systemctl daemon-reload
%[6]s
! mountpoint -q %[11]s || umount %[11]s
tac %[7]s/dirs.created 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null || true; done
ip rule show > %[7]s/rules.now
while IFS= read -r line; do
  grep -qxF "$line" %[7]s/rules.now || ip rule add pref "${line%%%%:*}" ${line#*:} || true
done < %[7]s/rules.before
ip route show table all > %[7]s/routes.now
while IFS= read -r line; do
  grep -qxF "$line" %[7]s/routes.now || ip route replace $line || true
done < %[7]s/routes.before
nft delete table ip %[8]s 2>/dev/null || true
systemctl stop %[9]s.timer 2>/dev/null || true
rm -rf %[7]s %[10]s
rmdir %[12]s /run/netchaos 2>/dev/null || true
`, eniTable, dropIn, eniNetwork, unitDropIn, eniLink, stop, state, guardTable, timerUnit, restore, sysfs, experiments.NodeRestoreDir)
}

// peerScript gives the peer node the stand-in VPC service's address, with
// its own restore script and timer written first.
func peerScript() string {
	return fmt.Sprintf(`set -e
mkdir -p %[1]s
cat > %[2]s <<'SCRIPT'
#!/bin/sh
ip addr del %[3]s/32 dev eth0 2>/dev/null || true
systemctl stop %[4]s-peer.timer 2>/dev/null || true
rm -f %[2]s
rmdir %[1]s /run/netchaos 2>/dev/null || true
SCRIPT
systemctl stop %[4]s-peer.timer 2>/dev/null || true
systemd-run --unit %[4]s-peer --on-active=%[5]d --timer-property=AccuracySec=1s /bin/sh %[2]s >/dev/null
ip addr replace %[3]s/32 dev eth0`, experiments.NodeRestoreDir, peerRestore, vpcAddr, timerUnit, int((Deadline + time.Minute).Seconds()))
}
