package intel

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// reference classifies a by scanning every loaded entry: the plain
// statement of the semantics that the index implements fast.
func reference(s *Set, a netip.Addr) Class {
	a = a.Unmap().WithZone("")
	c := Class{Private: isPrivate(a)}
	best, bestBits := int32(-1), -1
	for _, e := range s.entries {
		if !e.p.Contains(a) {
			continue
		}
		c.Tor = c.Tor || e.tor
		if e.list >= 0 && !slices.Contains(c.Lists, s.lists[e.list]) {
			c.Lists = append(c.Lists, s.lists[e.list])
		}
		if e.cloud >= 0 && (e.p.Bits() > bestBits || (e.p.Bits() == bestBits && s.clouds[e.cloud].rank > s.clouds[best].rank)) {
			best, bestBits = e.cloud, e.p.Bits()
		}
	}
	slices.Sort(c.Lists)
	if best >= 0 {
		m := s.clouds[best]
		c.Cloud, c.Service, c.Region = m.cloud, m.service, m.region
	}
	return c
}

// checkIndex verifies the index's invariants.
func checkIndex(t testing.TB, s *Set) {
	t.Helper()
	x := s.idx.Load()
	if x == nil {
		return
	}
	if len(x.start4) == 0 || x.start4[0] != 0 || len(x.start6) == 0 || x.start6[0] != (u128{}) {
		t.Fatalf("segments do not start at 0: %d v4, %d v6", len(x.start4), len(x.start6))
	}
	for i := 1; i < len(x.start4); i++ {
		if x.start4[i] <= x.start4[i-1] || x.seg4[i] == x.seg4[i-1] {
			t.Fatalf("v4 segment %d not ascending or not merged", i)
		}
	}
	for i := 1; i < len(x.start6); i++ {
		if !x.start6[i-1].less(x.start6[i]) || x.seg6[i] == x.seg6[i-1] {
			t.Fatalf("v6 segment %d not ascending or not merged", i)
		}
	}
}

// probes returns addresses at and around the ends of every loaded entry.
func probes(s *Set) []netip.Addr {
	var out []netip.Addr
	for _, e := range s.entries {
		first := e.p.Addr()
		last := first
		_, hi := bounds(e.p)
		if first.Is4() {
			last = netip.AddrFrom4([4]byte{byte(hi.lo >> 24), byte(hi.lo >> 16), byte(hi.lo >> 8), byte(hi.lo)})
		} else {
			var b [16]byte
			for i := range 8 {
				b[i] = byte(hi.hi >> (56 - 8*i))
				b[8+i] = byte(hi.lo >> (56 - 8*i))
			}
			last = netip.AddrFrom16(b)
		}
		out = append(out, first, last, first.Prev(), last.Next())
	}
	return slices.DeleteFunc(out, func(a netip.Addr) bool { return !a.IsValid() })
}

// compareReference checks Classify against the reference at addrs. The
// reference is quadratic: large fuzz inputs are checked on a sample.
func compareReference(t testing.TB, s *Set, addrs []netip.Addr) {
	t.Helper()
	if len(s.entries) > 1000 {
		addrs = addrs[:min(len(addrs), 50)]
	}
	for _, a := range addrs {
		got, want := s.Classify(a), reference(s, a)
		if !equal(got, want) {
			t.Fatalf("Classify(%s) = %+v, reference %+v", a, got, want)
		}
	}
}

// TestClassifyMatchesReference loads random nested and overlapping ranges
// from every kind of source and compares Classify with the reference at
// every range boundary and at random addresses.
func TestClassifyMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	v4 := func(bits int) string {
		p, _ := netip.AddrFrom4([4]byte{203, byte(r.IntN(4)), byte(r.IntN(256)), byte(r.IntN(256))}).Prefix(bits)
		return p.String()
	}
	v6 := func(bits int) string {
		b := [16]byte{0x20, 0x01, 0x0d, 0xb8, byte(r.IntN(2))}
		for i := 5; i < 16; i++ {
			b[i] = byte(r.IntN(256))
		}
		p, _ := netip.AddrFrom16(b).Prefix(bits)
		return p.String()
	}
	random := func() string {
		if r.IntN(2) == 0 {
			return v4(14 + r.IntN(19))
		}
		return v6(32 + r.IntN(97))
	}
	for round := range 20 {
		s := New()
		var tor strings.Builder
		for range 20 {
			tor.WriteString(strings.Split(random(), "/")[0] + "\n")
		}
		must(t, s.AddTor(strings.NewReader(tor.String()), "tor"))
		for l := range 3 {
			var b strings.Builder
			for range 30 {
				b.WriteString(random() + "\n")
			}
			must(t, s.AddList(strings.NewReader(b.String()), fmt.Sprint("list", l)))
		}
		var prefixes []string
		services := []string{"AMAZON", "EC2", "S3"}
		regions := []string{"eu-west-1", "GLOBAL", ""}
		for range 40 {
			p := random()
			field := "ip_prefix"
			if strings.Contains(p, ":") {
				field = "ipv6_prefix"
			}
			prefixes = append(prefixes, fmt.Sprintf(`{%q: %q, "service": %q, "region": %q}`, field, p, services[r.IntN(3)], regions[r.IntN(3)]))
		}
		must(t, s.AddCloudRanges(strings.NewReader(`{"prefixes": [`+strings.Join(prefixes, ",")+`]}`), "aws"))
		checkIndex(t, s)
		addrs := probes(s)
		for range 200 {
			addrs = append(addrs, netip.MustParsePrefix(random()).Addr())
		}
		t.Run(fmt.Sprint("round", round), func(t *testing.T) { compareReference(t, s, addrs) })
	}
}
