package pool

import (
	"errors"
	"net/netip"
	"testing"
)

func key(id string) Key { return Key{ContainerID: id, IfName: "eth0", NetworkName: "aws-cni"} }

func mustAssign(t *testing.T, p *Pool, k Key) netip.Addr {
	t.Helper()
	ip, err := p.Assign(k)
	if err != nil {
		t.Fatalf("Assign(%s): %v", k.ContainerID, err)
	}
	return ip
}

func TestAssignSkipsNetworkBroadcastAndReserved(t *testing.T) {
	p, err := New("10.0.16.0/29", netip.MustParseAddr("10.0.16.1"), netip.MustParseAddr("10.0.16.3"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range []string{"a", "b", "c", "d"} {
		got = append(got, mustAssign(t, p, key(id)).String())
	}
	want := []string{"10.0.16.2", "10.0.16.4", "10.0.16.5", "10.0.16.6"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("assigned %v, want %v", got, want)
		}
	}
	if _, err := p.Assign(key("e")); !errors.Is(err, ErrExhausted) {
		t.Fatalf("fifth Assign in a /29 with two reserved: err %v, want ErrExhausted", err)
	}
}

func TestAssignIsIdempotentPerKey(t *testing.T) {
	p, _ := New("10.0.16.0/24")
	a := mustAssign(t, p, key("a"))
	if again := mustAssign(t, p, key("a")); again != a {
		t.Fatalf("repeated ADD for the same sandbox got %s, first got %s", again, a)
	}
	other := Key{ContainerID: "a", IfName: "eth1", NetworkName: "aws-cni"}
	if b := mustAssign(t, p, other); b == a {
		t.Fatalf("another interface of the same container got the same address %s", b)
	}
}

func TestReleaseThenRoundRobin(t *testing.T) {
	p, _ := New("10.0.16.0/30") // usable: .1 .2
	a := mustAssign(t, p, key("a"))
	if ip, err := p.Release(key("a")); err != nil || ip != a {
		t.Fatalf("Release(a) = %s, %v; want %s", ip, err, a)
	}
	if _, err := p.Release(key("a")); !errors.Is(err, ErrUnknown) {
		t.Fatalf("second Release(a): err %v, want ErrUnknown", err)
	}
	// the next pod gets the address after the released one, then wraps to it
	if b := mustAssign(t, p, key("b")); b.String() != "10.0.16.2" {
		t.Fatalf("after releasing %s the next ADD got %s, want 10.0.16.2", a, b)
	}
	if c := mustAssign(t, p, key("c")); c != a {
		t.Fatalf("wrap-around got %s, want the freed %s", c, a)
	}
}

func TestSmallPrefixes(t *testing.T) {
	p, err := New("10.0.16.7/32")
	if err != nil {
		t.Fatal(err)
	}
	if ip := mustAssign(t, p, key("a")); ip.String() != "10.0.16.7" {
		t.Fatalf("/32 pool gave %s", ip)
	}
	if _, err := p.Assign(key("b")); !errors.Is(err, ErrExhausted) {
		t.Fatalf("full /32 pool: err %v, want ErrExhausted", err)
	}
	p31, _ := New("10.0.16.8/31")
	if a, b := mustAssign(t, p31, key("a")), mustAssign(t, p31, key("b")); a.String() != "10.0.16.8" || b.String() != "10.0.16.9" {
		t.Fatalf("/31 pool gave %s %s, want both addresses", a, b)
	}
}

func TestNewRejects(t *testing.T) {
	for _, c := range []string{"", "10.0.16.0", "fd00::/64", "10.0.16.0/33"} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%q) accepted", c)
		}
	}
	p, err := New("10.0.16.9/24") // host bits are masked
	if err != nil || p.Prefix().String() != "10.0.16.0/24" {
		t.Fatalf("New(10.0.16.9/24) = %v, %v", p.Prefix(), err)
	}
}

func TestRestore(t *testing.T) {
	p, _ := New("10.0.16.0/24", netip.MustParseAddr("10.0.16.1"))
	saved := []Allocation{
		{Key: key("x"), IP: netip.MustParseAddr("10.0.16.20")},
		{Key: key("y"), IP: netip.MustParseAddr("10.0.16.5")},
	}
	if err := p.Restore(saved); err != nil {
		t.Fatal(err)
	}
	if ip := mustAssign(t, p, key("x")); ip.String() != "10.0.16.20" {
		t.Fatalf("restored sandbox x got %s", ip)
	}
	if ip := mustAssign(t, p, key("z")); ip.String() != "10.0.16.21" {
		t.Fatalf("first ADD after restore got %s, want 10.0.16.21 (after the highest restored)", ip)
	}
	got := p.Allocations()
	if len(got) != 3 || got[0].IP.String() != "10.0.16.5" || got[2].IP.String() != "10.0.16.21" {
		t.Fatalf("Allocations() = %v", got)
	}

	for name, bad := range map[string][]Allocation{
		"outside":  {{Key: key("a"), IP: netip.MustParseAddr("10.0.17.1")}},
		"reserved": {{Key: key("a"), IP: netip.MustParseAddr("10.0.16.1")}},
		"twice":    {{Key: key("a"), IP: netip.MustParseAddr("10.0.16.9")}, {Key: key("b"), IP: netip.MustParseAddr("10.0.16.9")}},
		"two IPs":  {{Key: key("a"), IP: netip.MustParseAddr("10.0.16.9")}, {Key: key("a"), IP: netip.MustParseAddr("10.0.16.10")}},
	} {
		q, _ := New("10.0.16.0/24", netip.MustParseAddr("10.0.16.1"))
		if err := q.Restore(bad); err == nil {
			t.Errorf("Restore(%s) accepted %v", name, bad)
		}
	}
}
