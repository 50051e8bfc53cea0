package intel

import (
	"errors"
	"io/fs"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fixtureSet loads a small Tor list, two reputation lists and the three
// cloud fixtures.
func fixtureSet(t testing.TB) *Set {
	t.Helper()
	s := New()
	must(t, s.AddTor(strings.NewReader("# Tor exits\n185.220.101.1\n2001:67c:e60:c0c:192:42:116:16\n"), "tor-test"))
	must(t, s.AddList(strings.NewReader(`# my blocklist
198.51.100.0/24
203.0.113.7	5
2001:db8:bad::/48
185.220.101.1
20.15.162.87
13.69.64.90
`), "local-block"))
	must(t, s.AddList(strings.NewReader("203.0.113.7\n198.51.100.128/25 ; SBL1\n"), "drop"))
	for _, f := range []string{"ServiceTags_Public.json", "ip-ranges.json", "cloud.json"} {
		must(t, s.LoadFile(filepath.Join("testdata", f), KindCloud))
	}
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestClassify(t *testing.T) {
	s := fixtureSet(t)
	azKV := func(c Class) Class {
		c.Cloud, c.Service, c.Region = "azure", "AzureKeyVault.WestEurope", "westeurope"
		return c
	}
	for _, tc := range []struct {
		name string
		addr string
		want Class
	}{
		{"tor v4", "185.220.101.1", Class{Tor: true, Lists: []string{"local-block"}}},
		{"tor v6", "2001:67c:e60:c0c:192:42:116:16", Class{Tor: true}},
		{"tor as IPv4-mapped IPv6", "::ffff:185.220.101.1", Class{Tor: true, Lists: []string{"local-block"}}},
		{"list CIDR v4, first address", "198.51.100.0", Class{Lists: []string{"local-block"}}},
		{"list CIDR v4, nested CIDR of another list", "198.51.100.200", Class{Lists: []string{"drop", "local-block"}}},
		{"list CIDR v4, last address", "198.51.100.255", Class{Lists: []string{"drop", "local-block"}}},
		{"just past a CIDR", "198.51.101.0", Class{}},
		{"just before a CIDR", "198.51.99.255", Class{}},
		{"ipsum format, on two lists", "203.0.113.7", Class{Lists: []string{"drop", "local-block"}}},
		{"beside a listed address", "203.0.113.8", Class{}},
		{"list CIDR v6", "2001:db8:bad:ffff::1", Class{Lists: []string{"local-block"}}},
		{"outside a v6 CIDR", "2001:db8:bae::1", Class{}},
		{"azure catch-all", "13.70.0.1", Class{Cloud: "azure", Service: "AzureCloud"}},
		{"azure region beats catch-all", "13.69.100.1", Class{Cloud: "azure", Service: "AzureCloud.westeurope", Region: "westeurope"}},
		{"azure regional service tag beats global tag and region", "13.69.64.89", azKV(Class{})},
		{"azure service tag in region", "13.69.67.70", Class{Cloud: "azure", Service: "AzureResourceManager"}},
		{"azure global service tag only", "13.66.138.90", Class{Cloud: "azure", Service: "AzureKeyVault"}},
		{"azure listed address keeps cloud", "13.69.64.90", azKV(Class{Lists: []string{"local-block"}})},
		{"azure on reputation list", "20.15.162.87", Class{Lists: []string{"local-block"}, Cloud: "azure", Service: "AzureCloud"}},
		{"azure v6 service tag", "2603:1020:206::250", azKV(Class{})},
		{"azure v6 region", "2603:1020:200::1", Class{Cloud: "azure", Service: "AzureCloud.westeurope", Region: "westeurope"}},
		{"aws EC2 beats AMAZON for the same prefix", "3.248.1.1", Class{Cloud: "aws", Service: "EC2", Region: "eu-west-1"}},
		{"aws single address", "3.4.12.4", Class{Cloud: "aws", Service: "AMAZON", Region: "eu-west-1"}},
		{"aws beside single address", "3.4.12.5", Class{}},
		{"aws service", "52.94.3.255", Class{Cloud: "aws", Service: "DYNAMODB", Region: "us-east-1"}},
		{"aws global service", "13.33.0.1", Class{Cloud: "aws", Service: "CLOUDFRONT", Region: "GLOBAL"}},
		{"aws v6", "2a05:d018:fff::1", Class{Cloud: "aws", Service: "EC2", Region: "eu-west-1"}},
		{"gcp v4", "34.1.208.5", Class{Cloud: "gcp", Service: "Google Cloud", Region: "africa-south1"}},
		{"gcp v6", "2600:1900:8000::1", Class{Cloud: "gcp", Service: "Google Cloud", Region: "africa-south1"}},
		{"public, unknown", "8.8.8.8", Class{}},
		{"rfc1918 10/8", "10.1.2.3", Class{Private: true}},
		{"rfc1918 172.16/12", "172.31.255.255", Class{Private: true}},
		{"not rfc1918 172.32", "172.32.0.1", Class{}},
		{"rfc1918 192.168/16", "192.168.1.1", Class{Private: true}},
		{"loopback v4", "127.0.0.1", Class{Private: true}},
		{"link-local v4 (IMDS)", "169.254.169.254", Class{Private: true}},
		{"cgnat", "100.64.0.1", Class{Private: true}},
		{"cgnat end", "100.127.255.255", Class{Private: true}},
		{"past cgnat", "100.128.0.0", Class{}},
		{"loopback v6", "::1", Class{Private: true}},
		{"link-local v6 with zone", "fe80::1%eth0", Class{Private: true}},
		{"ula", "fd12:3456::1", Class{Private: true}},
		{"mapped private", "::ffff:10.0.0.1", Class{Private: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := s.Classify(netip.MustParseAddr(tc.addr))
			if !equal(got, tc.want) {
				t.Errorf("Classify(%s) = %+v, want %+v", tc.addr, got, tc.want)
			}
		})
	}
	if got := s.Classify(netip.Addr{}); !equal(got, Class{}) {
		t.Errorf("Classify(invalid) = %+v, want the zero Class", got)
	}
}

func equal(a, b Class) bool {
	return a.Tor == b.Tor && slices.Equal(a.Lists, b.Lists) && a.Cloud == b.Cloud &&
		a.Service == b.Service && a.Region == b.Region && a.Private == b.Private
}

func TestClassifyNilSet(t *testing.T) {
	var s *Set
	for addr, want := range map[string]Class{
		"10.0.0.1":      {Private: true},
		"fd00::1":       {Private: true},
		"185.220.101.1": {},
		"8.8.8.8":       {},
	} {
		if got := s.Classify(netip.MustParseAddr(addr)); !equal(got, want) {
			t.Errorf("nil Set: Classify(%s) = %+v, want %+v", addr, got, want)
		}
	}
	if got := New().Classify(netip.MustParseAddr("192.168.0.1")); !got.Private || got.Suspicious() {
		t.Errorf("empty Set: Classify(192.168.0.1) = %+v", got)
	}
	var zero Set
	if err := zero.AddList(strings.NewReader("1.2.3.4\n"), "l"); err != nil {
		t.Fatal(err)
	}
	if got := zero.Classify(netip.MustParseAddr("1.2.3.4")); !slices.Equal(got.Lists, []string{"l"}) {
		t.Errorf("zero Set after AddList: %+v", got)
	}
	if st := s.Stats(); len(st.Sources) != 0 {
		t.Errorf("nil Set: Stats = %+v", st)
	}
}

// TestClassifyEdges loads ranges that touch the ends of both address
// spaces.
func TestClassifyEdges(t *testing.T) {
	s := New()
	must(t, s.AddList(strings.NewReader("0.0.0.0/0\n255.255.255.0/24\n255.255.255.255\n0.0.0.0\n::/0\nffff::/16\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n"), "all"))
	must(t, s.AddList(strings.NewReader("255.255.255.255\n::\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120\n"), "edge"))
	for addr, want := range map[string][]string{
		"0.0.0.0":         {"all"},
		"1.1.1.1":         {"all"},
		"255.255.255.254": {"all"},
		"255.255.255.255": {"all", "edge"},
		"::":              {"all", "edge"},
		"::2":             {"all"},
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fe00": {"all"},
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff01": {"all", "edge"},
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": {"all", "edge"},
	} {
		if got := s.Classify(netip.MustParseAddr(addr)).Lists; !slices.Equal(got, want) {
			t.Errorf("Classify(%s).Lists = %v, want %v", addr, got, want)
		}
	}
}

func TestLabels(t *testing.T) {
	for _, tc := range []struct {
		c    Class
		want string
	}{
		{Class{}, "public"},
		{Class{Private: true}, "private"},
		{Class{Tor: true, Lists: []string{"a", "b"}}, "tor reputation:a reputation:b public"},
		{Class{Lists: []string{"ipsum-level3"}, Cloud: "azure", Service: "AzureCloud"}, "reputation:ipsum-level3 cloud:azure service:AzureCloud public"},
		{Class{Cloud: "aws", Service: "EC2", Region: "eu-west-1"}, "cloud:aws service:EC2 region:eu-west-1 public"},
	} {
		if got := strings.Join(tc.c.Labels(), " "); got != tc.want {
			t.Errorf("%+v.Labels() = %q, want %q", tc.c, got, tc.want)
		}
	}
	for _, tc := range []struct {
		c    Class
		want bool
	}{
		{Class{}, false}, {Class{Tor: true}, true}, {Class{Lists: []string{"x"}}, true},
		{Class{Cloud: "azure", Private: true}, false},
	} {
		if got := tc.c.Suspicious(); got != tc.want {
			t.Errorf("%+v.Suspicious() = %v", tc.c, got)
		}
	}
}

// TestClassifyAllocs is the contract of the hot path: no allocation.
func TestClassifyAllocs(t *testing.T) {
	s := fixtureSet(t)
	addrs := benchAddrs()
	var sink Class
	n := testing.AllocsPerRun(100, func() {
		for _, a := range addrs {
			sink = s.Classify(a)
		}
	})
	_ = sink
	if n != 0 {
		t.Errorf("Classify allocates %v times per %d calls", n, len(addrs))
	}
}

func benchAddrs() []netip.Addr {
	var out []netip.Addr
	for _, a := range []string{"185.220.101.1", "8.8.8.8", "10.1.2.3", "13.69.64.89", "20.15.162.87",
		"2603:1020:206::250", "2a05:d018:fff::1", "::ffff:185.220.101.1", "fe80::1%eth0", "198.51.100.200", "3.4.12.4", "2001:db8::1"} {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

// TestConcurrentLoad classifies while lists load (run with -race).
func TestConcurrentLoad(t *testing.T) {
	s := fixtureSet(t)
	a := netip.MustParseAddr("192.0.2.1")
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 200 {
				c := s.Classify(a)
				if len(c.Lists) > 0 && c.Lists[0] != "late" {
					t.Errorf("goroutine %d: %v", i, c.Lists)
					return
				}
			}
		})
	}
	must(t, s.AddList(strings.NewReader("192.0.2.0/24\n"), "late"))
	wg.Wait()
	if got := s.Classify(a).Lists; !slices.Equal(got, []string{"late"}) {
		t.Errorf("after load: %v", got)
	}
}

func TestListName(t *testing.T) {
	for in, want := range map[string]string{
		"ipsum-level3.txt":         "ipsum-level3",
		"/x/y/ipsum-level3.txt.gz": "ipsum-level3",
		"firehol_level1.netset":    "firehol_level1",
		"blocklist":                "blocklist",
		"drop.v6.txt":              "drop.v6",
	} {
		if got := ListName(in); got != want {
			t.Errorf("ListName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadFileErrors(t *testing.T) {
	s := New()
	if err := s.LoadFile(filepath.Join(t.TempDir(), "missing.txt"), KindList); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := s.LoadFile("x", "geoip"); err == nil {
		t.Error("unknown kind: no error")
	}
}
