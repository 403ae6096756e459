// Package pool hands out /32 pod IPv4 addresses from one CIDR, the part of
// ipamd's datastore that the stand-in keeps: one address per sandbox key,
// the same address again for a repeated ADD, and release by key on DEL.
package pool

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
)

// Key identifies one allocation as ipamd's datastore.IPAMKey does.
type Key struct {
	ContainerID string `json:"containerID"`
	IfName      string `json:"ifName"`
	NetworkName string `json:"networkName"`
}

// Allocation is one assigned address (also the stand-in's state file entry).
type Allocation struct {
	Key
	IP netip.Addr `json:"ip"`
}

var (
	// ErrExhausted: every usable address of the CIDR is assigned.
	ErrExhausted = errors.New("no free pod address left in the pool")
	// ErrUnknown: no address is assigned to the key.
	ErrUnknown = errors.New("no address assigned to this sandbox")
)

// Pool assigns addresses round-robin: after a release the next ADD gets the
// address after the last one handed out, not the one just freed, as ipamd's
// cooldown keeps a released IP away from the next pod.
type Pool struct {
	prefix   netip.Prefix
	first    netip.Addr // lowest usable address
	last     netip.Addr // highest usable address
	reserved map[netip.Addr]bool
	byKey    map[Key]netip.Addr
	byIP     map[netip.Addr]Key
	next     netip.Addr
}

// New makes a pool of the usable IPv4 addresses of cidr: all of them for a /31
// or /32, otherwise all but the network and broadcast addresses, and never one
// of reserved (the ENI's own address, its gateway).
func New(cidr string, reserved ...netip.Addr) (*Pool, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR %q: %w", cidr, err)
	}
	if !p.Addr().Is4() {
		return nil, fmt.Errorf("pod CIDR %q: only IPv4 is supported (the stand-in serves an IPv4 cluster)", cidr)
	}
	p = p.Masked()
	first, last := p.Addr(), broadcast(p)
	if p.Bits() <= 30 {
		first, last = first.Next(), last.Prev()
	}
	pool := &Pool{
		prefix: p, first: first, last: last, next: first,
		reserved: map[netip.Addr]bool{},
		byKey:    map[Key]netip.Addr{},
		byIP:     map[netip.Addr]Key{},
	}
	for _, r := range reserved {
		if r.IsValid() {
			pool.reserved[r] = true
		}
	}
	return pool, nil
}

// Prefix is the pool's CIDR.
func (p *Pool) Prefix() netip.Prefix { return p.prefix }

// Assign returns the key's address, assigning the next free one on first use.
func (p *Pool) Assign(k Key) (netip.Addr, error) {
	if ip, ok := p.byKey[k]; ok {
		return ip, nil
	}
	ip := p.next
	for {
		if !p.reserved[ip] {
			if _, used := p.byIP[ip]; !used {
				break
			}
		}
		ip = p.wrapNext(ip)
		if ip == p.next {
			return netip.Addr{}, fmt.Errorf("%w (%s)", ErrExhausted, p.prefix)
		}
	}
	p.byKey[k], p.byIP[ip] = ip, k
	p.next = p.wrapNext(ip)
	return ip, nil
}

// Lookup returns the key's address, if it has one.
func (p *Pool) Lookup(k Key) (netip.Addr, bool) {
	ip, ok := p.byKey[k]
	return ip, ok
}

// Release frees the key's address and returns it.
func (p *Pool) Release(k Key) (netip.Addr, error) {
	ip, ok := p.byKey[k]
	if !ok {
		return netip.Addr{}, ErrUnknown
	}
	delete(p.byKey, k)
	delete(p.byIP, ip)
	return ip, nil
}

// Allocations lists the assigned addresses in address order.
func (p *Pool) Allocations() []Allocation {
	out := make([]Allocation, 0, len(p.byKey))
	for k, ip := range p.byKey {
		out = append(out, Allocation{Key: k, IP: ip})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out
}

// Restore re-assigns saved allocations (the stand-in's state after a restart).
func (p *Pool) Restore(allocs []Allocation) error {
	for _, a := range allocs {
		if !p.usable(a.IP) {
			return fmt.Errorf("saved address %s of container %s is not a usable address of %s", a.IP, a.ContainerID, p.prefix)
		}
		if k, used := p.byIP[a.IP]; used && k != a.Key {
			return fmt.Errorf("saved address %s is assigned twice (containers %s and %s)", a.IP, k.ContainerID, a.ContainerID)
		}
		if ip, ok := p.byKey[a.Key]; ok && ip != a.IP {
			return fmt.Errorf("container %s has two saved addresses (%s and %s)", a.ContainerID, ip, a.IP)
		}
		p.byKey[a.Key], p.byIP[a.IP] = a.IP, a.Key
		if a.IP.Compare(p.next) >= 0 {
			p.next = p.wrapNext(a.IP)
		}
	}
	return nil
}

func (p *Pool) usable(ip netip.Addr) bool {
	return ip.Is4() && ip.Compare(p.first) >= 0 && ip.Compare(p.last) <= 0 && !p.reserved[ip]
}

func (p *Pool) wrapNext(ip netip.Addr) netip.Addr {
	if ip == p.last {
		return p.first
	}
	return ip.Next()
}

func broadcast(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		a[i/8] |= 1 << (7 - i%8)
	}
	return netip.AddrFrom4(a)
}
