package simulate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Intel holds the threat-intel lists the simulated attackers draw their
// addresses from: Tor exit nodes and an IP-reputation list. WriteTo writes
// them in the format the product loads, so a scan of the simulated logs can
// be given the very lists the attackers came from.
type Intel struct {
	Tor        []netip.Addr // Tor exit nodes, in the list's order, without duplicates
	Reputation []netip.Addr // addresses on public blocklists, in the list's order, without duplicates

	// TorSource and ReputationSource say where each list came from; they
	// become the header comment of the written files.
	TorSource        string
	ReputationSource string

	tor map[netip.Addr]bool
	rep map[netip.Addr]bool
}

// Names of the threat-intel files read by LoadIntel and written by WriteTo.
const (
	intelTorFile     = "tor-exit-nodes.txt"
	intelIpsumFile   = "ipsum-level3.txt"
	intelRepFile     = "ip-reputation.txt"
	intelFallbackTor = 96
	intelFallbackRep = 384
)

// LoadIntel reads the threat-intel lists from dir: tor-exit-nodes.txt (one IP
// per line) and ipsum-level3.txt (IP, optionally followed by a tab and a
// count; '#' comments), or ip-reputation.txt as WriteTo writes it when there
// is no ipsum-level3.txt. Unparsable lines are errors.
//
// When dir is empty, LoadIntel returns a built-in fallback drawn from seed:
// synthetic addresses taken from public, non-cloud, non-documentation ranges.
// They are stand-ins, NOT real Tor exit nodes or known-bad hosts; their
// written files say so.
func LoadIntel(dir string, seed uint64) (*Intel, error) {
	if dir == "" {
		return fallbackIntel(seed), nil
	}
	in := &Intel{}
	var err error
	torPath := filepath.Join(dir, intelTorFile)
	if in.Tor, err = intelReadList(torPath); err != nil {
		return nil, fmt.Errorf("load tor exit list: %w", err)
	}
	in.TorSource = "Tor bulk exit list, " + intelTorFile + " of the threat-intel folder given to simulate"
	repPath := filepath.Join(dir, intelIpsumFile)
	in.ReputationSource = "IPsum level 3 (stamparm/ipsum: addresses on at least 3 public blocklists), " + intelIpsumFile + " of the threat-intel folder given to simulate"
	if _, err := os.Stat(repPath); errors.Is(err, fs.ErrNotExist) {
		repPath = filepath.Join(dir, intelRepFile)
		in.ReputationSource = "IP reputation list, " + intelRepFile + " of the threat-intel folder given to simulate"
	}
	if in.Reputation, err = intelReadList(repPath); err != nil {
		return nil, fmt.Errorf("load ip reputation list: %w", err)
	}
	// Keep the written sources' own description when reading back a
	// folder WriteTo wrote.
	if s := intelSourceComment(torPath); s != "" {
		in.TorSource = s
	}
	if s := intelSourceComment(repPath); s != "" {
		in.ReputationSource = s
	}
	in.index()
	return in, nil
}

// intelReadList reads one address per line: the first field (split on tab or
// space) of each non-empty line that is not a '#' comment. A CIDR of a single
// host is accepted; wider CIDRs are skipped (attackers need addresses).
func intelReadList(path string) ([]netip.Addr, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		field := strings.Fields(line)[0]
		var a netip.Addr
		if strings.Contains(field, "/") {
			p, err := netip.ParsePrefix(field)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			if !p.IsSingleIP() {
				continue
			}
			a = p.Addr()
		} else if a, err = netip.ParseAddr(field); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		a = a.Unmap()
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// intelSourceComment returns the "source: ..." header comment WriteTo puts
// in its files, or "".
func intelSourceComment(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		if s, ok := strings.CutPrefix(line, "# source: "); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func (in *Intel) index() {
	in.tor = make(map[netip.Addr]bool, len(in.Tor))
	for _, a := range in.Tor {
		in.tor[a] = true
	}
	in.rep = make(map[netip.Addr]bool, len(in.Reputation))
	for _, a := range in.Reputation {
		in.rep[a] = true
	}
}

// IsTor reports whether a is on the Tor exit list.
func (in *Intel) IsTor(a netip.Addr) bool {
	if in.tor == nil {
		in.index()
	}
	return in.tor[a.Unmap()]
}

// IsReputation reports whether a is on the IP-reputation list.
func (in *Intel) IsReputation(a netip.Addr) bool {
	if in.rep == nil {
		in.index()
	}
	return in.rep[a.Unmap()]
}

// Listed reports whether a is on either list. Benign traffic should avoid
// listed addresses, or it raises threat-intel alerts nobody labelled.
func (in *Intel) Listed(a netip.Addr) bool {
	return in.IsTor(a) || in.IsReputation(a)
}

// WriteTo writes the lists into dir (created if needed) as
// tor-exit-nodes.txt and ip-reputation.txt: a '#' header saying where they
// came from, then one IP per line, the format the product loads (one IP or
// CIDR per line, '#' comments).
func (in *Intel) WriteTo(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write intel: %w", err)
	}
	files := []struct {
		name, title, source string
		addrs               []netip.Addr
	}{
		{intelTorFile, "Tor exit nodes", in.TorSource, in.Tor},
		{intelRepFile, "IP reputation list", in.ReputationSource, in.Reputation},
	}
	for _, f := range files {
		var b strings.Builder
		fmt.Fprintf(&b, "# %s the simulated attackers were drawn from (vaultwatch simulate).\n", f.title)
		fmt.Fprintf(&b, "# source: %s\n", f.source)
		b.WriteString("# format: one IP or CIDR per line; '#' starts a comment.\n")
		for _, a := range f.addrs {
			b.WriteString(a.String())
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write intel: %w", err)
		}
	}
	return nil
}

// fallbackIntel builds the built-in lists: synthetic addresses from public
// hosting and ISP ranges, outside every cloud prefix this package knows and
// outside the documentation and private ranges.
func fallbackIntel(seed uint64) *Intel {
	r := rand.New(rand.NewPCG(seed, intelStream("intel-fallback")))
	torRanges := intelMustPrefixes("45.83.104.0/22", "91.219.236.0/22", "109.70.100.0/24", "176.10.96.0/20", "195.176.0.0/16")
	repRanges := intelMustPrefixes("61.177.0.0/16", "103.145.12.0/22", "112.85.0.0/16", "117.50.0.0/16", "179.43.128.0/18", "185.156.72.0/22", "193.32.162.0/24", "218.92.0.0/16")
	seen := map[netip.Addr]bool{}
	draw := func(ranges []netip.Prefix, n int) []netip.Addr {
		var out []netip.Addr
		for len(out) < n {
			a := intelRandomAddr(r, ranges[r.IntN(len(ranges))])
			if seen[a] || intelInPrefixes(a, intelCloudPrefixes) {
				continue
			}
			seen[a] = true
			out = append(out, a)
		}
		return out
	}
	in := &Intel{
		Tor:              draw(torRanges, intelFallbackTor),
		Reputation:       draw(repRanges, intelFallbackRep),
		TorSource:        "built-in synthetic stand-ins (vaultwatch simulate, no intel folder given): NOT real Tor exit nodes",
		ReputationSource: "built-in synthetic stand-ins (vaultwatch simulate, no intel folder given): NOT a real reputation list",
	}
	in.index()
	return in
}

// intelAzurePrefixes are Azure datacenter ranges (from Microsoft's published
// service tags, rounded): where an attacker's rented Azure VM calls from.
var intelAzurePrefixes = intelMustPrefixes(
	"13.64.0.0/11", "20.40.0.0/13", "20.48.0.0/12", "20.64.0.0/10", "20.192.0.0/10",
	"40.74.0.0/15", "40.112.0.0/13", "51.104.0.0/15", "52.136.0.0/13", "52.224.0.0/11",
	"104.40.0.0/13", "137.116.0.0/15", "168.61.0.0/16",
)

// intelCloudPrefixes are the big cloud-provider blocks (Azure, AWS, Google
// Cloud, rounded outward). A "suspicious IP" attacker is never drawn from
// them, so that its label is not ambiguous with a cloud workload.
var intelCloudPrefixes = append(intelMustPrefixes(
	// Microsoft / Azure.
	"4.128.0.0/9", "48.192.0.0/10", "68.154.0.0/15", "68.218.0.0/15", "74.224.0.0/14",
	"98.64.0.0/10", "108.140.0.0/14", "135.224.0.0/11", "172.160.0.0/11", "13.64.0.0/10", "20.0.0.0/8", "23.96.0.0/13", "40.64.0.0/10", "51.4.0.0/14",
	"51.8.0.0/16", "51.10.0.0/15", "51.12.0.0/15", "51.103.0.0/16", "51.104.0.0/14",
	"51.116.0.0/14", "51.120.0.0/14", "51.124.0.0/16", "51.132.0.0/16", "51.136.0.0/14",
	"51.140.0.0/14", "52.96.0.0/11", "52.128.0.0/9", "65.52.0.0/14", "70.37.0.0/17",
	"104.40.0.0/13", "104.208.0.0/13", "137.116.0.0/14", "137.135.0.0/16", "138.91.0.0/16",
	"157.55.0.0/16", "168.61.0.0/16", "168.62.0.0/15", "191.232.0.0/13",
	// AWS.
	"3.0.0.0/8", "13.32.0.0/11", "15.128.0.0/9", "18.0.0.0/8", "34.192.0.0/10",
	"35.152.0.0/13", "44.192.0.0/10", "50.16.0.0/14", "52.0.0.0/10", "54.0.0.0/8",
	"99.77.0.0/16", "100.20.0.0/14", "107.20.0.0/14", "174.129.0.0/16", "184.72.0.0/15",
	// Google Cloud.
	"34.0.0.0/10", "34.64.0.0/10", "34.128.0.0/10", "35.184.0.0/13", "35.192.0.0/11",
	"35.224.0.0/12", "104.154.0.0/15", "104.196.0.0/14", "130.211.0.0/16", "146.148.0.0/17",
), intelAzurePrefixes...)

// intelCountryNets are consumer ISP ranges by country: where a stolen
// credential is used from "a new country". Approximate; no GeoIP claim.
var intelCountryNets = []struct {
	Country, Name string
	Net           netip.Prefix
}{
	{"VN", "Vietnam", netip.MustParsePrefix("113.160.0.0/11")},
	{"BR", "Brazil", netip.MustParsePrefix("177.32.0.0/12")},
	{"RU", "Russia", netip.MustParsePrefix("95.24.0.0/13")},
	{"NG", "Nigeria", netip.MustParsePrefix("105.112.0.0/12")},
	{"ID", "Indonesia", netip.MustParsePrefix("36.64.0.0/11")},
	{"RO", "Romania", netip.MustParsePrefix("86.120.0.0/13")},
	{"KZ", "Kazakhstan", netip.MustParsePrefix("95.56.0.0/14")},
}

func intelMustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func intelInPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	return slices.ContainsFunc(ps, func(p netip.Prefix) bool { return p.Contains(a) })
}

// intelRandomAddr draws a host address inside p: never the prefix's first
// or last address, and no .0 or .255 last octet in prefixes of /24 or wider.
// An IPv6 prefix gives its own address.
func intelRandomAddr(r *rand.Rand, p netip.Prefix) netip.Addr {
	p = p.Masked()
	if !p.Addr().Is4() {
		return p.Addr()
	}
	b := p.Addr().As4()
	base := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	size := uint64(1) << (32 - p.Bits())
	if size <= 2 {
		return p.Addr()
	}
	for {
		v := base + uint32(1+r.Uint64N(size-2))
		if last := v & 0xff; size >= 256 && (last == 0 || last == 255) {
			continue
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
}

// intelStream derives a PCG stream number from a component name (FNV-1a), so
// that each component draws from its own independent stream.
func intelStream(name string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	return h
}
