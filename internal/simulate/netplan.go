package simulate

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"net/netip"
	"time"
)

// This file holds the simulated organisation's address plan: where people
// and programs call from. Every range is public address space of the kind
// real callers have (national ISPs and carriers for offices and VPN
// concentrators, cloud providers' regional blocks for workloads), never
// RFC 1918, carrier-grade NAT or documentation ranges, so that the logs look
// like real ones and threat-intel lists stay meaningful.

// orgCountry is a country where the organisation has offices.
type orgCountry struct {
	Code string
	Zone *time.Location // a fixed offset: the simulation never reads the tz database
	// ISP blocks offices and VPN concentrators get their egress /27s from.
	Blocks []netip.Prefix
	// First and last names common there, for users' UPNs.
	First, Last []string
}

var orgCountries = map[string]*orgCountry{
	"US": {
		Code: "US", Zone: time.FixedZone("EST", -5*3600),
		Blocks: orgPrefixes("12.153.0.0/16", "64.124.0.0/16", "38.104.0.0/16", "208.185.0.0/16"),
		First:  []string{"james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david", "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "chris", "karen", "daniel", "nancy", "matthew", "lisa", "anthony", "betty", "mark", "ashley", "steven", "emily", "kevin", "megan", "brian", "rachel", "jason", "laura", "maria", "carlos", "sofia", "diego"},
		Last:   []string{"smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "clark", "lewis", "robinson", "walker", "young", "allen", "king", "wright", "scott", "nguyen", "hill", "flores", "green", "adams", "baker"},
	},
	"GB": {
		Code: "GB", Zone: time.FixedZone("GMT", 0),
		Blocks: orgPrefixes("81.128.0.0/16", "62.172.0.0/16", "86.128.0.0/16", "195.171.0.0/16"),
		First:  []string{"oliver", "amelia", "harry", "isla", "jack", "ava", "george", "emily", "noah", "sophie", "charlie", "grace", "jacob", "lily", "alfie", "freya", "oscar", "chloe", "thomas", "ella", "william", "poppy", "henry", "evie", "archie", "ruby", "leo", "holly", "joshua", "imogen"},
		Last:   []string{"smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies", "robinson", "wright", "thompson", "evans", "walker", "white", "roberts", "green", "hall", "wood", "jackson", "clarke", "patel", "khan", "hughes", "edwards", "turner", "cooper", "hill", "ward", "morris", "moore"},
	},
	"DE": {
		Code: "DE", Zone: time.FixedZone("CET", 3600),
		Blocks: orgPrefixes("80.150.0.0/16", "62.153.0.0/16", "217.86.0.0/16", "193.101.0.0/16"),
		First:  []string{"lukas", "anna", "leon", "lea", "finn", "hannah", "jonas", "lena", "paul", "laura", "felix", "julia", "maximilian", "sophie", "tim", "marie", "jan", "katharina", "niklas", "johanna", "moritz", "clara", "tobias", "lisa", "florian", "sarah", "stefan", "sabine", "markus", "claudia"},
		Last:   []string{"mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "schulz", "hoffmann", "schaefer", "koch", "bauer", "richter", "klein", "wolf", "schroeder", "neumann", "schwarz", "zimmermann", "braun", "krueger", "hofmann", "hartmann", "lange", "schmitt", "werner", "krause", "meier", "lehmann"},
	},
	"IN": {
		Code: "IN", Zone: time.FixedZone("IST", 5*3600+1800),
		Blocks: orgPrefixes("115.112.0.0/16", "14.140.0.0/16", "125.22.0.0/16", "203.197.0.0/16"),
		First:  []string{"aarav", "priya", "vivaan", "ananya", "aditya", "diya", "arjun", "isha", "sai", "kavya", "rohan", "neha", "rahul", "pooja", "vikram", "sneha", "karan", "divya", "amit", "anjali", "suresh", "lakshmi", "rajesh", "meera", "arun", "deepa", "nikhil", "shreya", "manoj", "swati"},
		Last:   []string{"sharma", "verma", "gupta", "singh", "kumar", "patel", "reddy", "iyer", "nair", "rao", "mehta", "joshi", "agarwal", "das", "chatterjee", "banerjee", "mishra", "pillai", "menon", "desai", "kulkarni", "bhat", "shah", "malhotra", "kapoor", "saxena", "pandey", "srinivasan", "krishnan", "naidu"},
	},
}

// orgCountrySets are the combinations of countries an organisation's people
// live in, most in the first.
var orgCountrySets = [][]string{
	{"US", "GB", "IN"},
	{"GB", "DE", "IN"},
	{"US", "DE"},
	{"DE", "GB", "US"},
	{"US", "IN"},
}

// cloudRegion is a cloud region with the provider blocks its workloads'
// outbound addresses come from.
type cloudRegion struct {
	Name    string
	Country string
	Blocks  []netip.Prefix
}

var azureRegions = []cloudRegion{
	{"westeurope", "NL", orgPrefixes("20.50.0.0/16", "20.61.0.0/16", "40.74.0.0/16", "52.174.0.0/16", "13.69.0.0/16")},
	{"northeurope", "IE", orgPrefixes("20.54.0.0/16", "40.69.0.0/16", "52.155.0.0/16", "13.74.0.0/16")},
	{"eastus", "US", orgPrefixes("20.42.0.0/16", "40.71.0.0/16", "52.168.0.0/16", "13.68.0.0/16")},
	{"uksouth", "GB", orgPrefixes("20.90.0.0/16", "51.104.0.0/16", "51.140.0.0/16")},
	{"germanywestcentral", "DE", orgPrefixes("20.113.0.0/16", "51.116.0.0/16")},
	{"centralindia", "IN", orgPrefixes("20.192.0.0/16", "52.172.0.0/16", "104.211.0.0/16")},
}

var awsRegions = []cloudRegion{
	{"us-east-1", "US", orgPrefixes("3.208.0.0/16", "44.192.0.0/16", "52.86.0.0/16")},
	{"eu-west-1", "IE", orgPrefixes("34.240.0.0/16", "52.208.0.0/16", "63.32.0.0/16")},
	{"eu-central-1", "DE", orgPrefixes("3.120.0.0/16", "18.184.0.0/16", "52.57.0.0/16")},
}

// Microsoft first-party services call from Azure's own blocks.
var microsoftServiceBlocks = orgPrefixes("20.38.0.0/16", "40.126.0.0/16", "52.239.0.0/16")

// regionForCountry is the Azure region an office country's workloads run in.
var regionForCountry = map[string]string{"US": "eastus", "GB": "uksouth", "DE": "westeurope", "IN": "centralindia"}

func orgPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// subPrefix picks a random aligned sub-prefix of length bits inside p.
func orgSubPrefix(r *rand.Rand, p netip.Prefix, bits int) netip.Prefix {
	a := p.Addr().As4()
	base := binary.BigEndian.Uint32(a[:])
	span := uint32(1) << (bits - p.Bits())
	n := r.Uint32N(span)
	base |= n << (32 - bits)
	binary.BigEndian.PutUint32(a[:], base)
	return netip.PrefixFrom(netip.AddrFrom4(a), bits)
}

// hostIn picks a host address in p, never its first or last address.
func orgHostIn(r *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	base := binary.BigEndian.Uint32(a[:])
	size := uint32(1) << (32 - p.Bits())
	if size <= 2 {
		return p.Addr()
	}
	base += 1 + r.Uint32N(size-2)
	binary.BigEndian.PutUint32(a[:], base)
	return netip.AddrFrom4(a)
}

// hostAt is the deterministic i-th-ish host of p for key: the same key
// always gives the same address, as a NAT pool or a VM's public IP does.
func orgHostAt(p netip.Prefix, key uint64) netip.Addr {
	return orgHostIn(rand.New(rand.NewPCG(key, 0x5eed)), p)
}

// orgHash hashes parts into a 64-bit stream or seed id.
func orgHash(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// orgRand is an independent deterministic random stream for a component.
func orgRand(seed uint64, parts ...string) *rand.Rand {
	return rand.New(rand.NewPCG(seed, orgHash(parts...)))
}
