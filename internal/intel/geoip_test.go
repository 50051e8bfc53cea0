package intel

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/maxminddb-golang/v2"
)

// geoNet is one network of a test database and its record.
type geoNet struct {
	prefix string
	rec    mmdbtype.DataType
}

// buildMMDB writes a MaxMind DB of dbType holding nets (in order: a later
// network replaces the part of an earlier one it covers) and returns its
// bytes. ipVersion is 4 or 6.
func buildMMDB(t testing.TB, dbType string, ipVersion int, nets []geoNet) []byte {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		IPVersion:               ipVersion,
		RecordSize:              28,
		IncludeReservedNetworks: true, // the tests use documentation ranges
		BuildEpoch:              1764201600,
	})
	must(t, err)
	for _, n := range nets {
		_, ipnet, err := net.ParseCIDR(n.prefix)
		must(t, err)
		must(t, tree.Insert(ipnet, n.rec))
	}
	var buf bytes.Buffer
	_, err = tree.WriteTo(&buf)
	must(t, err)
	return buf.Bytes()
}

// writeMMDB writes a database as buildMMDB does into a file of dir and
// returns its path.
func writeMMDB(t testing.TB, dir, name, dbType string, ipVersion int, nets []geoNet) string {
	t.Helper()
	path := filepath.Join(dir, name)
	must(t, os.WriteFile(path, buildMMDB(t, dbType, ipVersion, nets), 0o644))
	return path
}

// maxmindCountry is a record as GeoLite2-Country and DB-IP Country Lite
// have them.
func maxmindCountry(iso string) mmdbtype.Map {
	return mmdbtype.Map{
		"continent": mmdbtype.Map{"code": mmdbtype.String("EU"), "geoname_id": mmdbtype.Uint32(6255148),
			"names": mmdbtype.Map{"en": mmdbtype.String("Europe"), "de": mmdbtype.String("Europa")}},
		"country": mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2921044), "is_in_european_union": mmdbtype.Bool(true),
			"iso_code": mmdbtype.String(iso), "names": mmdbtype.Map{"en": mmdbtype.String("Somewhere")}},
		"registered_country": mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2921044), "iso_code": mmdbtype.String(iso)},
	}
}

// maxmindASN is a record as GeoLite2-ASN and DB-IP ASN Lite have them.
func maxmindASN(asn uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{
		"autonomous_system_number":       mmdbtype.Uint32(asn),
		"autonomous_system_organization": mmdbtype.String(org),
	}
}

// geoFixture writes a GeoLite2-Country and a GeoLite2-ASN database.
func geoFixture(t testing.TB) (country, asn string) {
	t.Helper()
	dir := t.TempDir()
	country = writeMMDB(t, dir, "GeoLite2-Country.mmdb", "GeoLite2-Country", 6, []geoNet{
		{"192.0.2.0/24", maxmindCountry("DE")},
		{"192.0.2.128/25", maxmindCountry("fr")}, // lower case: normalized
		{"198.51.100.0/24", mmdbtype.Map{"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("US")}}},
		{"2001:db8:1::/48", maxmindCountry("NL")},
		{"10.0.0.0/8", mmdbtype.Map{"continent": mmdbtype.Map{"code": mmdbtype.String("EU")}}}, // no country
	})
	asn = writeMMDB(t, dir, "GeoLite2-ASN.mmdb", "GeoLite2-ASN", 6, []geoNet{
		{"192.0.2.0/24", maxmindASN(64496, "EXAMPLE-NET")},
		{"203.0.113.0/24", maxmindASN(64498, "Example Hosting Ltd")},
		{"2001:db8:1::/48", maxmindASN(64497, "EXAMPLE-V6")},
		{"2001:db8:2::/48", maxmindASN(64497, "EXAMPLE-V6")},
	})
	return country, asn
}

func geoEqual(got Class, country string, asn uint32, org string) bool {
	return got.Country == country && got.ASN == asn && got.ASOrg == org
}

func TestGeoIPClassify(t *testing.T) {
	country, asn := geoFixture(t)
	s := fixtureSet(t)
	t.Cleanup(func() { must(t, s.Close()) })
	must(t, s.LoadFile(country, KindGeoIP))
	must(t, s.LoadGeoIP(asn))
	for _, tc := range []struct {
		addr    string
		country string
		asn     uint32
		org     string
		labels  string
	}{
		{"192.0.2.10", "DE", 64496, "EXAMPLE-NET", "country:DE asn:AS64496 public"},
		{"::ffff:192.0.2.10", "DE", 64496, "EXAMPLE-NET", "country:DE asn:AS64496 public"},
		{"192.0.2.200", "FR", 64496, "EXAMPLE-NET", "country:FR asn:AS64496 public"},
		{"192.0.2.255", "FR", 64496, "EXAMPLE-NET", "country:FR asn:AS64496 public"},
		{"192.0.3.0", "", 0, "", "public"},
		{"198.51.100.7", "US", 0, "", "reputation:local-block country:US public"}, // registered country only
		{"203.0.113.9", "", 64498, "Example Hosting Ltd", "asn:AS64498 public"},   // ASN only
		{"203.0.113.7", "", 64498, "Example Hosting Ltd", "reputation:drop reputation:local-block asn:AS64498 public"},
		{"2001:db8:1::5", "NL", 64497, "EXAMPLE-V6", "country:NL asn:AS64497 public"},
		{"2001:db8:1:ffff:ffff:ffff:ffff:ffff", "NL", 64497, "EXAMPLE-V6", "country:NL asn:AS64497 public"},
		{"2001:db8:1::5%eth0", "NL", 64497, "EXAMPLE-V6", "country:NL asn:AS64497 public"},
		{"2001:db8:2::1", "", 64497, "EXAMPLE-V6", "asn:AS64497 public"},
		{"2001:db8:3::1", "", 0, "", "public"},
		{"10.1.2.3", "", 0, "", "private"}, // a record without a country
		{"8.8.8.8", "", 0, "", "public"},
		{"13.69.64.89", "", 0, "", "cloud:azure service:AzureKeyVault.WestEurope region:westeurope public"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			got := s.Classify(netip.MustParseAddr(tc.addr))
			if !geoEqual(got, tc.country, tc.asn, tc.org) {
				t.Errorf("got %q AS%d %q, want %q AS%d %q", got.Country, got.ASN, got.ASOrg, tc.country, tc.asn, tc.org)
			}
			if l := strings.Join(got.Labels(), " "); l != tc.labels {
				t.Errorf("labels %q, want %q", l, tc.labels)
			}
		})
	}
	if got := s.Classify(netip.Addr{}); !geoEqual(got, "", 0, "") {
		t.Errorf("invalid address: %+v", got)
	}
}

// TestGeoIPOrder: the first database that knows a field gives it.
func TestGeoIPOrder(t *testing.T) {
	dir := t.TempDir()
	a := writeMMDB(t, dir, "a.mmdb", "ipinfo_lite.mmdb", 6, []geoNet{{"192.0.2.0/24", mmdbtype.Map{
		"country_code": mmdbtype.String("SE"), "asn": mmdbtype.String("AS64511"), "as_name": mmdbtype.String("A")}}})
	b := writeMMDB(t, dir, "b.mmdb", "GeoIP2-ISP", 6, []geoNet{
		{"192.0.2.0/24", mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64512), "autonomous_system_organization": mmdbtype.String("B")}},
		{"198.51.100.0/24", maxmindCountry("NO")},
	})
	s := New()
	t.Cleanup(func() { must(t, s.Close()) })
	must(t, s.LoadGeoIP(a))
	must(t, s.LoadGeoIP(b))
	if got := s.Classify(netip.MustParseAddr("192.0.2.1")); !geoEqual(got, "SE", 64511, "A") {
		t.Errorf("192.0.2.1: %+v", got)
	}
	if got := s.Classify(netip.MustParseAddr("198.51.100.1")); !geoEqual(got, "NO", 0, "") {
		t.Errorf("198.51.100.1: %+v", got)
	}
}

// TestGeoIPLayouts reads one record of each known layout, at an IPv4 and an
// IPv6 network.
func TestGeoIPLayouts(t *testing.T) {
	str := func(s string) mmdbtype.String { return mmdbtype.String(s) }
	for _, tc := range []struct {
		name    string
		v4only  bool
		rec     mmdbtype.DataType
		country string
		asn     uint32
		org     string
	}{
		{name: "GeoIP2-City", country: "DE", rec: mmdbtype.Map{
			"city":      mmdbtype.Map{"geoname_id": mmdbtype.Uint32(2867714), "names": mmdbtype.Map{"en": str("Munich"), "de": str("München")}},
			"continent": mmdbtype.Map{"code": str("EU")},
			"country":   mmdbtype.Map{"iso_code": str("DE"), "names": mmdbtype.Map{"en": str("Germany")}},
			"location": mmdbtype.Map{"accuracy_radius": mmdbtype.Uint16(20), "latitude": mmdbtype.Float64(48.1),
				"longitude": mmdbtype.Float64(11.6), "time_zone": str("Europe/Berlin")},
			"postal":             mmdbtype.Map{"code": str("80331")},
			"registered_country": mmdbtype.Map{"iso_code": str("DE")},
			"subdivisions":       mmdbtype.Slice{mmdbtype.Map{"iso_code": str("BY"), "names": mmdbtype.Map{"en": str("Bavaria")}}},
		}},
		{name: "GeoIP2-Country, represented country", country: "US", rec: mmdbtype.Map{
			"country":             mmdbtype.Map{"iso_code": str("US")},
			"registered_country":  mmdbtype.Map{"iso_code": str("US")},
			"represented_country": mmdbtype.Map{"iso_code": str("DE"), "type": str("military")},
		}},
		{name: "registered country when no country", country: "JP", rec: mmdbtype.Map{
			"continent": mmdbtype.Map{"code": str("AS")}, "registered_country": mmdbtype.Map{"iso_code": str("JP")}}},
		{name: "DBIP-Country-Lite", country: "AT", rec: maxmindCountry("AT")},
		{name: "GeoLite2-ASN", asn: 8075, org: "MICROSOFT-CORP-MSN-AS-BLOCK", rec: maxmindASN(8075, "MICROSOFT-CORP-MSN-AS-BLOCK")},
		{name: "GeoIP2-ISP", asn: 3320, org: "Deutsche Telekom AG", rec: mmdbtype.Map{
			"autonomous_system_number": mmdbtype.Uint32(3320), "autonomous_system_organization": str("Deutsche Telekom AG"),
			"isp": str("Deutsche Telekom AG"), "organization": str("Deutsche Telekom AG")}},
		{name: "GeoIP2-Enterprise traits", country: "GB", asn: 2856, org: "British Telecommunications PLC", rec: mmdbtype.Map{
			"country": mmdbtype.Map{"iso_code": str("GB")},
			"traits": mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(2856),
				"autonomous_system_organization": str("British Telecommunications PLC"), "connection_type": str("Cable/DSL")}}},
		{name: "ipinfo lite", country: "US", asn: 15169, org: "Google LLC", rec: mmdbtype.Map{
			"asn": str("AS15169"), "as_name": str("Google LLC"), "as_domain": str("google.com"),
			"country_code": str("US"), "country": str("United States"), "continent_code": str("NA"), "continent": str("North America")}},
		{name: "ipinfo country_asn", country: "IT", asn: 64501, org: "Example SpA", rec: mmdbtype.Map{
			"country": str("IT"), "country_name": str("Italy"), "continent": str("EU"), "continent_name": str("Europe"),
			"asn": str("AS64501"), "as_name": str("Example SpA"), "as_domain": str("example.it")}},
		{name: "country_code only", country: "BR", rec: mmdbtype.Map{"country_code": str("BR")}},
		{name: "asn as a number, as a bare string", asn: 64502, rec: mmdbtype.Map{"asn": str("64502")}},
		{name: "asn as uint16", asn: 64503, org: "X", rec: mmdbtype.Map{"asn": mmdbtype.Uint16(64503), "as_name": str("X")}},
		{name: "asn as uint64", asn: 64504, rec: mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint64(64504)}},
		{name: "asn as int32", asn: 64505, rec: mmdbtype.Map{"autonomous_system_number": mmdbtype.Int32(64505)}},
		{name: "32-bit asn", asn: 4200000000, rec: mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(4200000000)}},
		{name: "asn out of range", country: "DE", rec: mmdbtype.Map{"country_code": str("DE"), "autonomous_system_number": mmdbtype.Uint64(1 << 40)}},
		{name: "negative asn", country: "DE", rec: mmdbtype.Map{"country_code": str("DE"), "autonomous_system_number": mmdbtype.Int32(-5)}},
		{name: "asn not a number", country: "DE", rec: mmdbtype.Map{"country_code": str("DE"), "asn": str("ASX"), "as_name": str("X")}},
		{name: "organization without asn", country: "DE", rec: mmdbtype.Map{"country_code": str("DE"), "as_name": str("X")}},
		{name: "bad country code falls back", country: "DE", rec: mmdbtype.Map{
			"country": mmdbtype.Map{"iso_code": str("DEU")}, "registered_country": mmdbtype.Map{"iso_code": str("DE")}}},
		{name: "country name is not a code", country: "", asn: 1, rec: mmdbtype.Map{"country": str("Germany"), "asn": str("AS1")}},
		{name: "fields of other types ignored", asn: 7, rec: mmdbtype.Map{
			"country": mmdbtype.Uint32(5), "registered_country": mmdbtype.Slice{str("DE")}, "country_code": mmdbtype.Bool(true),
			"autonomous_system_number": mmdbtype.Float64(3), "asn": mmdbtype.Uint32(7), "as_name": mmdbtype.Map{}, "traits": str("x")}},
		{name: "IPv4 database", v4only: true, country: "CH", rec: maxmindCountry("CH")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nets := []geoNet{{"192.0.2.0/24", tc.rec}, {"2001:db8::/32", tc.rec}}
			version := 6
			if tc.v4only {
				nets, version = nets[:1], 4
			}
			s := New()
			defer s.Close()
			must(t, s.LoadGeoIP(writeMMDB(t, t.TempDir(), "t.mmdb", tc.name, version, nets)))
			for _, a := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1"} {
				got := s.Classify(netip.MustParseAddr(a))
				if tc.v4only && a == "2001:db8::1" {
					if !geoEqual(got, "", 0, "") {
						t.Errorf("%s: %+v from an IPv4 database", a, got)
					}
					continue
				}
				if !geoEqual(got, tc.country, tc.asn, tc.org) {
					t.Errorf("%s: got %q AS%d %q, want %q AS%d %q", a, got.Country, got.ASN, got.ASOrg, tc.country, tc.asn, tc.org)
				}
			}
		})
	}
}

func TestLoadGeoIPErrors(t *testing.T) {
	dir := t.TempDir()
	valid := buildMMDB(t, "GeoLite2-Country", 6, []geoNet{{"192.0.2.0/24", maxmindCountry("DE")}})
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, data, 0o644))
		return p
	}
	corrupt := bytes.Clone(valid)
	for i := range 64 { // the search tree comes first
		corrupt[i] = 0xff
	}
	for _, tc := range []struct {
		name string
		path string
		err  error
		text string // what the message starts with
	}{
		{"text file", write("ipsum.txt", []byte("1.2.3.4\n5.6.7.8\n")), ErrNotMMDB, "ipsum.txt: not a MaxMind DB file"},
		{"empty file", write("empty.mmdb", nil), ErrNotMMDB, "empty.mmdb: not a MaxMind DB file: empty file"},
		{"metadata cut off", write("cut.mmdb", valid[:len(valid)-40]), ErrNotMMDB, "cut.mmdb: not a MaxMind DB file"},
		{"corrupt search tree", write("corrupt.mmdb", corrupt), ErrNotMMDB, "corrupt.mmdb: "},
		{"gzip of a text file", write("list.gz", gz(t, []byte("1.2.3.4\n"))), ErrNotMMDB, "list.gz: not a MaxMind DB file"},
		{"truncated gzip", write("trunc.mmdb.gz", gz(t, valid)[:100]), nil, "trunc.mmdb.gz: gzip: "},
		{"directory", dir, ErrNotMMDB, filepath.Base(dir) + ": not a MaxMind DB file: not a regular file"},
		{"missing", filepath.Join(dir, "nope.mmdb"), fs.ErrNotExist, "geoip: open " + filepath.Join(dir, "nope.mmdb")},
		{"no known fields", write("city-names.mmdb", buildMMDB(t, "Custom-Names", 6, []geoNet{
			{"192.0.2.0/24", mmdbtype.Map{"city": mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("Berlin")}}}},
		})), ErrNoGeoFields, `city-names.mmdb: database type "Custom-Names": no country or autonomous system fields`},
		{"records not maps", write("strings.mmdb", buildMMDB(t, "Strings", 6, []geoNet{
			{"192.0.2.0/24", mmdbtype.String("DE")}, {"2001:db8::/32", mmdbtype.Uint32(64496)},
		})), ErrNoGeoFields, "strings.mmdb: "},
		{"no networks", write("none.mmdb", buildMMDB(t, "GeoLite2-Country", 6, nil)), ErrNoEntries, "none.mmdb: no addresses loaded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, viaLoadFile := range []bool{false, true} {
				s := New()
				var err error
				if viaLoadFile {
					err = s.LoadFile(tc.path, KindGeoIP)
				} else {
					err = s.LoadGeoIP(tc.path)
				}
				if err == nil {
					t.Fatal("no error")
				}
				if tc.err != nil && !errors.Is(err, tc.err) {
					t.Errorf("error %v, want %v", err, tc.err)
				}
				if !strings.HasPrefix(err.Error(), tc.text) {
					t.Errorf("error %q, want %q...", err, tc.text)
				}
				if len(s.Stats().Sources) != 0 || s.geo.Load() != nil {
					t.Errorf("a failed load left %+v", s.Stats())
				}
				must(t, s.Close())
			}
		})
	}
}

// TestGeoIPSharedTree loads a database whose search tree shares every
// node's children: 2^32 networks in 32 nodes. Loading reads only its first
// networks, so it returns at once.
func TestGeoIPSharedTree(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-Country", IPVersion: 4, RecordSize: 24, IncludeReservedNetworks: true})
	must(t, err)
	must(t, tree.Insert(&net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(32, 32)}, maxmindCountry("DE")))
	var buf bytes.Buffer
	_, err = tree.WriteTo(&buf)
	must(t, err)
	data := buf.Bytes()
	r, err := maxminddb.OpenBytes(data)
	must(t, err)
	nodes := int(r.Metadata.NodeCount)
	must(t, r.Close())
	if nodes != 32 {
		t.Fatalf("%d nodes, want a chain of 32", nodes)
	}
	for i := range nodes { // 24-bit records: the right one becomes the left one
		copy(data[6*i+3:6*i+6], data[6*i:6*i+3])
	}
	path := filepath.Join(t.TempDir(), "shared.mmdb")
	must(t, os.WriteFile(path, data, 0o644))
	s := New()
	defer s.Close()
	must(t, s.LoadGeoIP(path))
	for _, a := range []string{"0.0.0.0", "255.255.255.255", "192.0.2.1"} {
		if got := s.Classify(netip.MustParseAddr(a)); got.Country != "DE" {
			t.Errorf("%s: %+v", a, got)
		}
	}
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	must(t, err)
	must(t, zw.Close())
	return buf.Bytes()
}

// TestLoadGeoIPGzip reads a gzip-compressed database, as DB-IP ships them.
func TestLoadGeoIPGzip(t *testing.T) {
	data := buildMMDB(t, "DBIP-Country-Lite", 6, []geoNet{{"192.0.2.0/24", maxmindCountry("DE")}})
	path := filepath.Join(t.TempDir(), "dbip-country-lite-2026-11.mmdb.gz")
	must(t, os.WriteFile(path, gz(t, data), 0o644))
	s := New()
	defer s.Close()
	must(t, s.LoadGeoIP(path))
	if got := s.Classify(netip.MustParseAddr("192.0.2.1")); got.Country != "DE" {
		t.Errorf("country %q, want DE", got.Country)
	}
}

func TestGeoIPStats(t *testing.T) {
	country, asn := geoFixture(t)
	s := New()
	defer s.Close()
	must(t, s.AddTor(strings.NewReader("192.0.2.1\n"), "tor"))
	must(t, s.LoadGeoIP(country))
	must(t, s.LoadGeoIP(asn))
	nodes := func(path string) int {
		r, err := maxminddb.Open(path)
		must(t, err)
		defer r.Close()
		return int(r.Metadata.NodeCount)
	}
	want := []SourceStats{
		{Source: "tor", Kind: "tor", Entries: 1},
		{Source: "GeoLite2-Country.mmdb", Kind: "geoip", Name: "GeoLite2-Country", Entries: nodes(country)},
		{Source: "GeoLite2-ASN.mmdb", Kind: "geoip", Name: "GeoLite2-ASN", Entries: nodes(asn)},
	}
	got := s.Stats().Sources
	if len(got) != len(want) {
		t.Fatalf("stats %+v", got)
	}
	for i := range want {
		if g := got[i]; g.Source != want[i].Source || g.Kind != want[i].Kind || g.Name != want[i].Name || g.Entries != want[i].Entries || g.Skipped != 0 {
			t.Errorf("source %d: %+v, want %+v", i, g, want[i])
		}
	}
	if str, line := s.Stats().String(), fmt.Sprintf("%-5s %-28s %7d loaded, 0 skipped\n", "geoip", "GeoLite2-ASN.mmdb", want[2].Entries); !strings.Contains(str, line) {
		t.Errorf("summary:\n%s\nwant a line %q", str, line)
	}
}

// TestGeoIPAllocs: once its records were met, GeoIP lookup allocates
// nothing.
func TestGeoIPAllocs(t *testing.T) {
	country, asn := geoFixture(t)
	s := fixtureSet(t)
	defer s.Close()
	must(t, s.LoadGeoIP(country))
	must(t, s.LoadGeoIP(asn))
	addrs := append(benchAddrs(), netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.200"),
		netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("::ffff:203.0.113.1"), netip.MustParseAddr("8.8.8.8"))
	var sink Class
	classifyAll := func() {
		for _, a := range addrs {
			sink = s.Classify(a)
		}
	}
	classifyAll() // meets the records
	if n := testing.AllocsPerRun(100, classifyAll); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
	_ = sink
}

// TestGeoIPCacheBound: a cache at its cap starts afresh and lookups stay
// right.
func TestGeoIPCacheBound(t *testing.T) {
	var nets []geoNet
	for i := range 16 {
		nets = append(nets, geoNet{fmt.Sprintf("192.0.2.%d/28", i*16), maxmindASN(uint32(64496+i), fmt.Sprint("AS-", i))})
	}
	s := New()
	defer s.Close()
	must(t, s.LoadGeoIP(writeMMDB(t, t.TempDir(), "asn.mmdb", "GeoLite2-ASN", 6, nets)))
	g := (*s.geo.Load())[0]
	g.cacheCap = 5
	for round := range 3 {
		for i := range 16 {
			got := s.Classify(netip.AddrFrom4([4]byte{192, 0, 2, byte(i*16 + round)}))
			if !geoEqual(got, "", uint32(64496+i), fmt.Sprint("AS-", i)) {
				t.Fatalf("round %d, network %d: %+v", round, i, got)
			}
			if len(g.cache) > g.cacheCap || len(g.strs) > 2*g.cacheCap {
				t.Fatalf("cache %d records, %d strings; cap %d", len(g.cache), len(g.strs), g.cacheCap)
			}
		}
	}
}

// TestGeoIPConcurrent classifies from several goroutines while databases
// are loaded (run with -race).
func TestGeoIPConcurrent(t *testing.T) {
	country, asn := geoFixture(t)
	s := New()
	defer s.Close()
	must(t, s.LoadGeoIP(country))
	addrs := []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("192.0.2.129")}
	want := []string{"DE", "NL", "FR"}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := (i + w) % len(addrs)
				c := s.Classify(addrs[k])
				if c.Country != want[k] || (c.ASN != 0 && c.ASN != 64496 && c.ASN != 64497) {
					errs <- fmt.Errorf("%s: %+v", addrs[k], c)
					return
				}
			}
		})
	}
	must(t, s.LoadGeoIP(asn))
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := s.Classify(addrs[0]); !geoEqual(got, "DE", 64496, "EXAMPLE-NET") {
		t.Errorf("after loading: %+v", got)
	}
}

func TestGeoIPClose(t *testing.T) {
	country, _ := geoFixture(t)
	s := New()
	must(t, s.LoadGeoIP(country))
	a := netip.MustParseAddr("192.0.2.1")
	if s.Classify(a).Country != "DE" {
		t.Fatal("not loaded")
	}
	must(t, s.Close())
	if got := s.Classify(a); got.Country != "" {
		t.Errorf("after Close: %+v", got)
	}
	must(t, s.Close())
	var nilSet *Set
	must(t, nilSet.Close())
	must(t, New().Close())
	// The Set is usable again.
	must(t, s.LoadGeoIP(country))
	if s.Classify(a).Country != "DE" {
		t.Error("not loaded after Close")
	}
	must(t, s.Close())
}

func FuzzGeoIP(f *testing.F) {
	f.Add(buildMMDB(f, "GeoLite2-Country", 6, []geoNet{
		{"192.0.2.0/24", maxmindCountry("DE")}, {"2001:db8::/32", maxmindASN(64496, "X")}}))
	f.Add(buildMMDB(f, "ipinfo", 4, []geoNet{{"192.0.2.0/25", mmdbtype.Map{
		"asn": mmdbtype.String("AS1"), "country": mmdbtype.String("DE"), "traits": mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint16(3)}}}}))
	addrs := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("::1")}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := maxminddb.OpenBytes(data)
		if err != nil {
			return
		}
		s := New()
		if err := s.addGeoIP(r, "f.mmdb"); err != nil {
			if !errors.Is(err, ErrNotMMDB) && !errors.Is(err, ErrNoGeoFields) && !errors.Is(err, ErrNoEntries) {
				t.Fatalf("error %v wraps none of the sentinels", err)
			}
			return
		}
		for _, a := range addrs {
			c := s.Classify(a)
			if c.Country != "" {
				if _, ok := countryISO(c.Country); !ok || strings.ToUpper(c.Country) != c.Country {
					t.Fatalf("%s: country %q", a, c.Country)
				}
			}
		}
		must(t, s.Close())
	})
}

// BenchmarkClassifyGeoIP classifies the mix of BenchmarkClassify against
// the fixtures and a country database (and an ASN database) of 20,000
// random networks each. After the first meeting of each record it must
// report 0 allocs/op.
func BenchmarkClassifyGeoIP(b *testing.B) {
	country, asn := benchGeoDBs(b)
	b.Run("country", func(b *testing.B) {
		s := fixtureSet(b)
		defer s.Close()
		must(b, s.LoadGeoIP(country))
		benchClassify(b, s)
	})
	b.Run("country+asn", func(b *testing.B) {
		s := fixtureSet(b)
		defer s.Close()
		must(b, s.LoadGeoIP(country))
		must(b, s.LoadGeoIP(asn))
		benchClassify(b, s)
	})
}

// benchGeoDBs writes a country database (250 countries) and an ASN
// database (5,000 systems), each of 20,000 random IPv4 and IPv6 networks.
func benchGeoDBs(b *testing.B) (country, asn string) {
	r := rand.New(rand.NewPCG(5, 6))
	random := func() string {
		if r.IntN(4) == 0 {
			return fmt.Sprintf("%x:%x::/%d", 0x2400+r.IntN(0x800), r.IntN(0x10000), 20+r.IntN(29)) // not aliased to IPv4
		}
		return fmt.Sprintf("%d.%d.%d.0/%d", 1+r.IntN(222), r.IntN(256), r.IntN(256), 12+r.IntN(13))
	}
	var cn, an []geoNet
	for range 20000 {
		cn = append(cn, geoNet{random(), maxmindCountry(fmt.Sprintf("%c%c", 'A'+r.IntN(25), 'A'+r.IntN(10)))})
		k := r.IntN(5000)
		an = append(an, geoNet{random(), maxmindASN(uint32(1000+k), fmt.Sprint("Example Networks ", k))})
	}
	dir := b.TempDir()
	return writeMMDB(b, dir, "country.mmdb", "GeoLite2-Country", 6, cn), writeMMDB(b, dir, "asn.mmdb", "GeoLite2-ASN", 6, an)
}
