package simulate

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vaultwatch/internal/testutil"
)

func TestLoadIntelReal(t *testing.T) {
	dir := testutil.ThreatIntel(t)
	in, err := LoadIntel(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The saved lists: 1,305 Tor exits; ipsum level 3 with 14,217 lines.
	if len(in.Tor) < 1000 || len(in.Reputation) < 10000 {
		t.Fatalf("loaded %d tor, %d reputation addresses", len(in.Tor), len(in.Reputation))
	}
	if a := netip.MustParseAddr("185.241.208.232"); !in.IsTor(a) {
		t.Errorf("first Tor exit %s not loaded", a)
	}
	if a := netip.MustParseAddr("77.90.185.20"); !in.IsReputation(a) {
		t.Errorf("first ipsum address %s not loaded", a)
	}
	if !strings.Contains(in.ReputationSource, "ipsum") {
		t.Errorf("reputation source %q does not name ipsum", in.ReputationSource)
	}
	// Attackers drawn from the real lists are where they should be.
	o := attackTestOrg(30, 7)
	acc, labels := PlanAttacks(o, in, 5)
	atkCheckLabels(t, o, in, acc, labels)
	// The written lists load back to the same addresses.
	out := t.TempDir()
	if err := in.WriteTo(out); err != nil {
		t.Fatal(err)
	}
	back, err := LoadIntel(out, 99)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Tor, in.Tor) || !slices.Equal(back.Reputation, in.Reputation) {
		t.Errorf("round trip: %d/%d tor, %d/%d reputation", len(back.Tor), len(in.Tor), len(back.Reputation), len(in.Reputation))
	}
	if back.TorSource != in.TorSource || back.ReputationSource != in.ReputationSource {
		t.Errorf("sources after round trip: %q, %q", back.TorSource, back.ReputationSource)
	}
}

func TestLoadIntelFormats(t *testing.T) {
	tests := []struct {
		name       string
		tor, ipsum string
		wantTor    []string
		wantRep    []string
		wantErr    bool
	}{
		{
			name:    "ipsum with counts and comments",
			tor:     "1.2.3.4\n\n5.6.7.8\n1.2.3.4\n",
			ipsum:   "# IPsum Threat Intelligence Feed\n# (https://github.com/stamparm/ipsum)\n9.9.9.1\t7\n9.9.9.2\t3\n",
			wantTor: []string{"1.2.3.4", "5.6.7.8"},
			wantRep: []string{"9.9.9.1", "9.9.9.2"},
		},
		{
			name:    "single-host CIDR kept, wider skipped",
			tor:     "1.2.3.4/32\n10.0.0.0/8\n",
			ipsum:   "9.9.9.1 2\n",
			wantTor: []string{"1.2.3.4"},
			wantRep: []string{"9.9.9.1"},
		},
		{name: "garbage", tor: "1.2.3.4\nnot-an-ip\n", ipsum: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			intelWriteFile(t, filepath.Join(dir, "tor-exit-nodes.txt"), tc.tor)
			intelWriteFile(t, filepath.Join(dir, "ipsum-level3.txt"), tc.ipsum)
			in, err := LoadIntel(dir, 1)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := intelAddrStrings(in.Tor); !slices.Equal(got, tc.wantTor) {
				t.Errorf("tor = %v, want %v", got, tc.wantTor)
			}
			if got := intelAddrStrings(in.Reputation); !slices.Equal(got, tc.wantRep) {
				t.Errorf("reputation = %v, want %v", got, tc.wantRep)
			}
		})
	}
}

func TestLoadIntelMissing(t *testing.T) {
	if _, err := LoadIntel(t.TempDir(), 1); err == nil {
		t.Error("LoadIntel of an empty folder: no error")
	}
}

func TestFallbackIntel(t *testing.T) {
	a, err := LoadIntel("", 3)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := LoadIntel("", 3)
	c, _ := LoadIntel("", 4)
	if !slices.Equal(a.Tor, b.Tor) || !slices.Equal(a.Reputation, b.Reputation) {
		t.Error("fallback differs for the same seed")
	}
	if slices.Equal(a.Tor, c.Tor) {
		t.Error("fallback identical for different seeds")
	}
	if len(a.Tor) != intelFallbackTor || len(a.Reputation) != intelFallbackRep {
		t.Errorf("fallback sizes %d, %d", len(a.Tor), len(a.Reputation))
	}
	for _, ip := range slices.Concat(a.Tor, a.Reputation) {
		if !ip.IsGlobalUnicast() || ip.IsPrivate() || intelInPrefixes(ip, intelCloudPrefixes) || a.IsTor(ip) && a.IsReputation(ip) {
			t.Errorf("fallback address %s is private, cloud or on both lists", ip)
		}
	}
	dir := t.TempDir()
	if err := a.WriteTo(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "tor-exit-nodes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "#") || !strings.Contains(string(data), "NOT real Tor exit nodes") {
		t.Errorf("fallback Tor list does not say it is synthetic:\n%.300s", data)
	}
	back, err := LoadIntel(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Tor, a.Tor) || !slices.Equal(back.Reputation, a.Reputation) {
		t.Error("fallback round trip changed the lists")
	}
}

func TestIntelRandomAddr(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []string{"81.128.17.0/27", "20.0.0.0/8", "1.2.3.4/32", "1.2.3.4/31", "10.0.0.0/30"}
	for _, s := range tests {
		p := netip.MustParsePrefix(s)
		for range 500 {
			a := intelRandomAddr(r, p)
			if !p.Contains(a) {
				t.Fatalf("%s: %s outside", s, a)
			}
			if p.Bits() < 31 && (a == p.Masked().Addr() || a.Next() == netip.Addr{} || !p.Contains(a.Next())) {
				t.Fatalf("%s: %s is the first or last address", s, a)
			}
			if p.Bits() <= 24 && (a.As4()[3] == 0 || a.As4()[3] == 255) {
				t.Fatalf("%s: %s ends in .0 or .255", s, a)
			}
		}
	}
}

func intelAddrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func intelWriteFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
