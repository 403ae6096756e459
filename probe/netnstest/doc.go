// Package netnstest proves the probe's precision on the real kernel: two
// network namespaces joined by a veth pair, the echo responder in one, the
// prober in the other, and an nftables drop rule held for a known time.
// It needs root, ip(8) and nft(8); `make precision` installs what is missing.
package netnstest
