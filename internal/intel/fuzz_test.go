package intel

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzAddList(f *testing.F) {
	f.Add([]byte("# c\n1.2.3.4\n10.0.0.0/8\n2001:db8::/32\t3\n::ffff:1.2.3.0/120 ; x\n"))
	f.Add([]byte("0.0.0.0/0\n::/0\n255.255.255.255\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"))
	f.Add([]byte("\xef\xbb\xbf1.1.1.1\r\nfe80::1%eth0\nnot an ip\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tor := range []bool{false, true} {
			s := New()
			var err error
			if tor {
				err = s.AddTor(bytes.NewReader(data), "f")
			} else {
				err = s.AddList(bytes.NewReader(data), "f")
			}
			st := s.Stats().Sources[0]
			lines := bytes.Count(data, []byte("\n")) + 1
			if st.Entries+st.Skipped > lines || (err == nil) != (st.Entries > 0) {
				t.Fatalf("entries %d + skipped %d of %d lines, err %v", st.Entries, st.Skipped, lines, err)
			}
			checkIndex(t, s)
			compareReference(t, s, probes(s))
			// Every line that is just an address is classified as loaded.
			for _, l := range strings.Split(string(data), "\n") {
				a, perr := netip.ParseAddr(strings.TrimSpace(l))
				if perr != nil || a.Zone() != "" || len(l) > maxLine {
					continue
				}
				c := s.Classify(a)
				if tor && !c.Tor || !tor && len(c.Lists) != 1 {
					t.Fatalf("line %q: %+v", l, c)
				}
			}
		}
	})
}

func FuzzAddCloudRanges(f *testing.F) {
	for _, name := range []string{"ServiceTags_Public.json", "ip-ranges.json", "cloud.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"prefixes":[{"ip_prefix":"0.0.0.0/0","service":"AMAZON"},{"ipv6Prefix":"::/0"},{"ip_prefix":"1.2.3.4/32","service":"EC2","region":"x"}]}`))
	f.Add([]byte(`{"values":[{"name":"AzureCloud","properties":{"addressPrefixes":["1.0.0.0/8","x"]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := New()
		err := s.AddCloudRanges(bytes.NewReader(data), "f")
		if err != nil {
			if x := s.idx.Load(); x != nil {
				t.Fatalf("error %v, but an index was published", err)
			}
			return
		}
		checkIndex(t, s)
		compareReference(t, s, probes(s))
	})
}
