package intel

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"

	"vaultwatch/internal/testutil"
)

// BenchmarkClassify classifies a mix of listed, cloud, private and unknown
// addresses against the fixtures, and against the fixtures plus the shared
// Tor and ipsum lists. It must report 0 allocs/op.
func BenchmarkClassify(b *testing.B) {
	b.Run("fixtures", func(b *testing.B) { benchClassify(b, fixtureSet(b)) })
	b.Run("real-lists", func(b *testing.B) {
		dir := testutil.ThreatIntel(b)
		s := fixtureSet(b)
		must(b, s.LoadFile(filepath.Join(dir, "tor-exit-nodes.txt"), KindTor))
		must(b, s.LoadFile(filepath.Join(dir, "ipsum-level3.txt"), KindList))
		benchClassify(b, s)
	})
}

func benchClassify(b *testing.B, s *Set) {
	r := rand.New(rand.NewPCG(3, 4))
	addrs := benchAddrs()
	for len(addrs) < 1024 {
		if r.IntN(4) == 0 {
			var a [16]byte
			for i := range a {
				a[i] = byte(r.IntN(256))
			}
			addrs = append(addrs, netip.AddrFrom16(a))
		} else {
			addrs = append(addrs, netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}))
		}
	}
	b.ReportAllocs()
	var n int
	for i := 0; b.Loop(); i++ {
		if s.Classify(addrs[i&1023]).Suspicious() {
			n++
		}
	}
	_ = n
}
