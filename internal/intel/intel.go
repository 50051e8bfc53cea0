// Package intel is vaultwatch's threat intelligence: what is known of a
// caller's address. It loads Tor exit lists, IP reputation lists and the
// cloud providers' published ranges (Azure service tags, AWS ip-ranges.json,
// GCP cloud.json) into a Set, and classifies addresses against it on the hot
// path without allocating. Optional MaxMind DB files (GeoIP2, GeoLite2,
// DB-IP, IPinfo) add the country and the autonomous system of an address.
//
// Loading is tolerant: a malformed line or prefix is counted, reported in
// Stats with its source and line, and skipped. An Add method fails only when
// nothing could be read from its input or the input is not of a known shape.
package intel

import (
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
)

// Cloud providers named in Class.Cloud.
const (
	CloudAzure = "azure"
	CloudAWS   = "aws"
	CloudGCP   = "gcp"
)

// Class is what is known of one address.
type Class struct {
	// Tor is set for a Tor exit node.
	Tor bool
	// Lists names the reputation lists that hold the address (e.g.
	// "ipsum-level3"), sorted. The slice is shared between calls: do not
	// modify it.
	Lists []string
	// Cloud is "azure", "aws", "gcp" or "".
	Cloud string
	// Service is the cloud service or service tag when known
	// ("AzureKeyVault.WestEurope", "EC2", "Google Cloud"), else "".
	Service string
	// Region is the cloud region when known ("westeurope", "eu-west-1").
	Region string
	// Private is set for RFC 1918, loopback, link-local, CGNAT (RFC 6598)
	// and unique local (fc00::/7) addresses: an internal caller.
	Private bool
	// Country is the ISO 3166-1 alpha-2 code of the address's country,
	// upper case ("DE"), when a GeoIP database knows it, else "".
	Country string
	// ASN is the number of the autonomous system the address belongs to,
	// when a GeoIP database knows it, else 0.
	ASN uint32
	// ASOrg is the organization of that autonomous system when known
	// ("MICROSOFT-CORP-MSN-AS-BLOCK", "Google LLC"), else "".
	ASOrg string
}

// Suspicious reports whether the address is a Tor exit node or on any
// reputation list. Being a cloud address is not suspicious in itself.
func (c Class) Suspicious() bool {
	return c.Tor || len(c.Lists) > 0
}

// Labels returns the classification for an alert, in a fixed order: "tor",
// "reputation:<list>" for each list, "cloud:<provider>",
// "service:<service>", "region:<region>", "country:<ISO code>" ("country:DE"),
// "asn:AS<number>" ("asn:AS8075"), and finally "private" or "public". Call it
// only for a valid address: the zero Class is "public".
func (c Class) Labels() []string {
	out := make([]string, 0, 5+len(c.Lists))
	if c.Tor {
		out = append(out, "tor")
	}
	for _, l := range c.Lists {
		out = append(out, "reputation:"+l)
	}
	if c.Cloud != "" {
		out = append(out, "cloud:"+c.Cloud)
		if c.Service != "" {
			out = append(out, "service:"+c.Service)
		}
		if c.Region != "" {
			out = append(out, "region:"+c.Region)
		}
	}
	if c.Country != "" {
		out = append(out, "country:"+c.Country)
	}
	if c.ASN != 0 {
		out = append(out, "asn:AS"+strconv.FormatUint(uint64(c.ASN), 10))
	}
	if c.Private {
		out = append(out, "private")
	} else {
		out = append(out, "public")
	}
	return out
}

// Set is a loaded body of threat intelligence.
//
// Classify is safe for concurrent use at any time, also while an Add method
// runs: each Add builds a new immutable index and publishes it atomically,
// so a classification sees either all of a source or none of it. Add methods
// may be called from several goroutines; they are serialized.
//
// A Set with GeoIP databases (LoadGeoIP) holds their files memory-mapped:
// Close it when done, once nothing classifies any more.
type Set struct {
	mu      sync.Mutex // serializes loading; guards the fields below
	entries []entry    // everything loaded, the input of the index
	lists   []string   // reputation list names, by id
	listID  map[string]int32
	clouds  []cloudMeta // cloud range labels, by id
	cloudID map[cloudMeta]int32
	stats   []SourceStats

	idx atomic.Pointer[index]   // what Classify reads
	geo atomic.Pointer[geoList] // GeoIP databases, nil when none
}

// New returns an empty Set.
func New() *Set {
	return &Set{listID: map[string]int32{}, cloudID: map[cloudMeta]int32{}}
}

// Classify returns what is known of a. It never allocates, except the
// first time a record of a GeoIP database is met. A nil *Set knows only the
// private ranges; an invalid address is the zero Class. An IPv4-mapped IPv6
// address is classified as its IPv4 address, and a zone is ignored.
func (s *Set) Classify(a netip.Addr) Class {
	if !a.IsValid() {
		return Class{}
	}
	a = a.Unmap().WithZone("")
	var c Class
	if s != nil {
		if x := s.idx.Load(); x != nil {
			c = x.lookup(a)
		}
	}
	c.Private = isPrivate(a)
	if s != nil {
		if g := s.geo.Load(); g != nil {
			g.classify(a, &c)
		}
	}
	return c
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// isPrivate reports an internal address: RFC 1918, loopback, link-local,
// CGNAT, unique local. a is unmapped.
func isPrivate(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || (a.Is4() && cgnat.Contains(a))
}
