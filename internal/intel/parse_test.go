package intel

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vaultwatch/internal/testutil"
)

func problems(st SourceStats) string {
	var b strings.Builder
	for _, p := range st.Problems {
		b.WriteString(p.Error() + "\n")
	}
	return b.String()
}

func TestAddListErrors(t *testing.T) {
	long := strings.Repeat("1", maxLine+10)
	for _, tc := range []struct {
		name     string
		tor      bool
		in       string
		entries  int
		skipped  int
		problems string
		err      error // nil, or what the error must wrap
	}{
		{name: "bad lines counted with numbers", in: "# c\n1.2.3.4\nnot-an-ip\n\n10.0.0.0/33\n2001:db8::/129\n5.6.7.8\t12\n",
			entries: 2, skipped: 3, problems: "l:3: not an IP address: \"not-an-ip\"\nl:5: not an IP address: \"10.0.0.0/33\"\nl:6: not an IP address: \"2001:db8::/129\"\n"},
		{name: "crlf, bom, spaces, comments", in: "\xef\xbb\xbf1.2.3.4\r\n  5.6.7.8  # trailing\r\n; semicolon comment\r\n2001:db8::1\n", entries: 3},
		{name: "zone refused", in: "fe80::1%eth0\n1.1.1.1\n", entries: 1, skipped: 1, problems: "l:1: not an IP address: \"fe80::1%eth0\"\n"},
		{name: "mapped prefix too wide", in: "::ffff:0.0.0.0/90\n1.1.1.1\n", entries: 1, skipped: 1, problems: "l:1: not an IP address: \"::ffff:0.0.0.0/90\"\n"},
		{name: "long line skipped, long comment not", in: "#" + long + "\n" + long + "\n1.1.1.1", entries: 1, skipped: 1, problems: "l:2: line too long\n"},
		{name: "more problems than kept", in: "a\nb\nc\nd\ne\nf\ng\n1.1.1.1\n", entries: 1, skipped: 7,
			problems: "l:1: not an IP address: \"a\"\nl:2: not an IP address: \"b\"\nl:3: not an IP address: \"c\"\nl:4: not an IP address: \"d\"\nl:5: not an IP address: \"e\"\n"},
		{name: "empty", in: "# nothing\n\n", err: ErrNoEntries},
		{name: "nothing valid", in: "x\n", skipped: 1, problems: "l:1: not an IP address: \"x\"\n", err: ErrNotAddress},
		{name: "tor refuses CIDR", tor: true, in: "1.2.3.4\n1.2.3.0/24\n", entries: 1, skipped: 1, problems: "l:2: not an IP address: \"1.2.3.0/24\"\n"},
		{name: "tor exit-addresses format", tor: true, in: "ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E\nPublished 2023-10-14 07:05:52\nLastStatus 2023-10-14 08:00:00\nExitAddress 162.247.74.201 2023-10-14 08:07:48\n", entries: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			var err error
			if tc.tor {
				err = s.AddTor(strings.NewReader(tc.in), "l")
			} else {
				err = s.AddList(strings.NewReader(tc.in), "l")
			}
			if tc.err == nil && err != nil {
				t.Fatalf("error %v", err)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			st := s.Stats().Sources[0]
			if st.Entries != tc.entries || st.Skipped != tc.skipped {
				t.Errorf("entries %d, skipped %d; want %d, %d", st.Entries, st.Skipped, tc.entries, tc.skipped)
			}
			if got := problems(st); got != tc.problems {
				t.Errorf("problems:\n%s\nwant:\n%s", got, tc.problems)
			}
		})
	}
}

func TestAddCloudRangesErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		cloud    string
		entries  int
		problems string
		err      error
		errText  string
	}{
		{name: "azure bad prefixes with lines", cloud: "azure", entries: 2, in: `{
  "changeNumber": 1,
  "values": [
    {"name": "AzureKeyVault", "id": "AzureKeyVault", "properties": {"region": "", "systemService": "AzureKeyVault",
      "addressPrefixes": [
        "13.66.138.88/29",
        "13.66.138.88/33",
        "nonsense",
        "2603:1020:206::240/123"
      ]}}
  ]
}`, problems: "c.json:7: values[0].properties.addressPrefixes[1]: not a CIDR prefix: \"13.66.138.88/33\"\nc.json:8: values[0].properties.addressPrefixes[2]: not a CIDR prefix: \"nonsense\"\n"},
		{name: "aws bad and missing prefixes", cloud: "aws", entries: 1, in: `{"syncToken": "1", "createDate": "2024-11-26-20-53-13",
"prefixes": [
 {"ip_prefix": "3.4.12.4/32", "region": "eu-west-1", "service": "AMAZON", "network_border_group": "eu-west-1"},
 {"region": "eu-west-1", "service": "AMAZON"}
],
"ipv6_prefixes": [
 {"ipv6_prefix": "2a05:d018::/300", "region": "eu-west-1", "service": "EC2", "network_border_group": "eu-west-1"}
]}`, problems: "c.json: prefixes[1]: not a CIDR prefix\nc.json:7: ipv6_prefixes[0].ipv6_prefix: not a CIDR prefix: \"2a05:d018::/300\"\n"},
		{name: "gcp", cloud: "gcp", entries: 2, in: `{"syncToken": "1", "creationTime": "2024-11-26T09:02:28.39874", "prefixes": [{"ipv4Prefix": "34.1.208.0/20", "service": "Google Cloud", "scope": "africa-south1"}, {"ipv6Prefix": "2600:1900:8000::/44", "service": "Google Cloud", "scope": "africa-south1"}]}`},
		{name: "same bad value twice", cloud: "gcp", entries: 1, in: "{\"prefixes\": [\n{\"ipv4Prefix\": \"x\"},\n{\"ipv4Prefix\": \"x\"},\n{\"ipv4Prefix\": \"1.0.0.0/8\"}]}",
			problems: "c.json:2: prefixes[0].ipv4Prefix: not a CIDR prefix: \"x\"\nc.json:3: prefixes[1].ipv4Prefix: not a CIDR prefix: \"x\"\n"},
		{name: "not JSON", in: "{\n\"values\": [\n}", err: nil, errText: "c.json:3: not JSON"},
		{name: "unknown shape", in: `{"foo": 1}`, err: ErrUnknownFormat},
		{name: "array", in: `[1, 2]`, err: ErrUnknownFormat},
		{name: "wrong types", in: `{"values": {"name": 1}}`, err: ErrUnknownFormat},
		{name: "no prefixes", in: `{"prefixes": []}`, err: ErrNoEntries},
		{name: "only bad prefixes", in: `{"values": [{"name": "X", "properties": {"addressPrefixes": ["bad"]}}]}`, err: ErrNotPrefix},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			err := s.AddCloudRanges(strings.NewReader(tc.in), "c.json")
			switch {
			case tc.errText != "":
				if err == nil || !strings.HasPrefix(err.Error(), tc.errText) {
					t.Fatalf("error %v, want %q...", err, tc.errText)
				}
				return
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			st := s.Stats().Sources[0]
			if st.Entries != tc.entries || st.Name != tc.cloud || st.Kind != "cloud" {
				t.Errorf("stats %+v, want %d entries of %s", st, tc.entries, tc.cloud)
			}
			if got := problems(st); got != tc.problems {
				t.Errorf("problems:\n%s\nwant:\n%s", got, tc.problems)
			}
		})
	}
}

func TestAddListNeedsName(t *testing.T) {
	s := New()
	if err := s.AddList(strings.NewReader("1.2.3.4\n"), ""); err == nil {
		t.Error("no error for an empty list name")
	}
	if got := s.Classify(netip.MustParseAddr("1.2.3.4")); got.Suspicious() {
		t.Errorf("unnamed list loaded: %+v", got)
	}
}

// TestRealLists loads the shared Tor and ipsum lists (counted with
// grep -c . and grep -vc '^#'; 100 addresses are on both).
func TestRealLists(t *testing.T) {
	dir := testutil.ThreatIntel(t)
	s := New()
	must(t, s.LoadFile(filepath.Join(dir, "tor-exit-nodes.txt"), KindTor))
	must(t, s.LoadFile(filepath.Join(dir, "ipsum-level3.txt"), KindList))
	must(t, s.LoadFile(filepath.Join("testdata", "ServiceTags_Public.json"), KindCloud))
	st := s.Stats().Sources
	want := []SourceStats{
		{Source: "tor-exit-nodes.txt", Kind: "tor", Entries: 1305},
		{Source: "ipsum-level3.txt", Kind: "list", Name: "ipsum-level3", Entries: 14217},
	}
	for i, w := range want {
		if g := st[i]; g.Source != w.Source || g.Kind != w.Kind || g.Name != w.Name || g.Entries != w.Entries || g.Skipped != 0 {
			t.Errorf("source %d: %+v, want %+v", i, g, w)
		}
	}
	for addr, want := range map[string]string{
		"185.241.208.232": "tor public",                                                    // first Tor line
		"45.77.67.251":    "tor public",                                                    // last Tor line
		"104.244.73.43":   "tor reputation:ipsum-level3 public",                            // on both
		"77.90.185.20":    "reputation:ipsum-level3 public",                                // first ipsum line
		"20.15.162.87":    "reputation:ipsum-level3 cloud:azure service:AzureCloud public", // an Azure address on ipsum
		"1.1.1.1":         "public",
	} {
		if got := strings.Join(s.Classify(netip.MustParseAddr(addr)).Labels(), " "); got != want {
			t.Errorf("%s: %q, want %q", addr, got, want)
		}
	}
	var tor, listed int
	for _, src := range []string{"tor-exit-nodes.txt", "ipsum-level3.txt"} {
		data, err := os.ReadFile(filepath.Join(dir, src))
		must(t, err)
		for _, l := range strings.Fields(string(data)) {
			c := s.Classify(netip.MustParseAddr(l))
			if c.Tor {
				tor++
			}
			if len(c.Lists) > 0 {
				listed++
			}
		}
	}
	if tor != 1305+100 || listed != 14217+100 {
		t.Errorf("tor hits %d, listed hits %d; want 1405, 14317", tor, listed)
	}
}

// TestLoadFileGzip reads a gzip-compressed list whatever its name.
func TestLoadFileGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintln(zw, "# list\n192.0.2.1\n2001:db8::/32")
	must(t, zw.Close())
	dir := t.TempDir()
	for _, name := range []string{"bad-actors.txt.gz", "bad-actors-nosuffix.txt"} {
		must(t, os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644))
		s := New()
		must(t, s.LoadFile(filepath.Join(dir, name), KindList))
		want := ListName(name)
		if got := s.Classify(netip.MustParseAddr("2001:db8::5")).Lists; len(got) != 1 || got[0] != want {
			t.Errorf("%s: lists %v, want [%s]", name, got, want)
		}
	}
	must(t, os.WriteFile(filepath.Join(dir, "trunc.gz"), buf.Bytes()[:buf.Len()-6], 0o644))
	if err := New().LoadFile(filepath.Join(dir, "trunc.gz"), KindList); err == nil {
		t.Error("truncated gzip: no error")
	}
}
