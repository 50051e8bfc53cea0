package intel

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// Errors that LoadGeoIP returns; match them with errors.Is.
var (
	// ErrNotMMDB: a file is not a MaxMind DB (.mmdb) file, or is corrupt.
	ErrNotMMDB = errors.New("not a MaxMind DB file")
	// ErrNoGeoFields: a MaxMind DB file has none of the country or
	// autonomous system fields that LoadGeoIP reads.
	ErrNoGeoFields = errors.New("no country or autonomous system fields")
)

const (
	// geoSample is how many distinct records LoadGeoIP decodes, and
	// geoSampleNets how many networks (with or without data) it walks at
	// most, to find out whether a database has usable fields.
	geoSample     = 1000
	geoSampleNets = 1 << 16
	// geoCacheCap bounds the decoded records a database keeps; past it the
	// cache starts afresh. A country database has a few hundred records, an
	// ASN database some tens of thousands.
	geoCacheCap = 1 << 18
	// maxGeoString bounds a string read from a record.
	maxGeoString = 1024
)

// geoList is the GeoIP databases of a Set in load order. It is immutable
// once published.
type geoList []*geoDB

// geoDB is one loaded MaxMind DB file.
type geoDB struct {
	r      *maxminddb.Reader
	source string // the file's base name
	v4only bool   // an IPv4 tree: IPv6 addresses are not in it

	mu       sync.RWMutex
	cache    map[uintptr]geoInfo // decoded records by data offset
	strs     map[string]string   // interned strings of the cached records
	cacheCap int
}

// geoInfo is what one record of a database says.
type geoInfo struct {
	country string
	asn     uint32
	org     string
}

// LoadGeoIP adds the MaxMind DB (.mmdb) file at path to the databases that
// Classify consults for Class.Country, Class.ASN and Class.ASOrg. It reads
// these layouts:
//
//   - MaxMind GeoIP2 and GeoLite2 Country and City, DB-IP Country and City
//     Lite: country.iso_code, else registered_country.iso_code;
//   - MaxMind GeoLite2 ASN and GeoIP2 ISP, DB-IP ASN Lite:
//     autonomous_system_number and autonomous_system_organization (also
//     under traits, as GeoIP2 Enterprise has them);
//   - IPinfo Lite and IPinfo Country ASN: country_code (or a two-letter
//     country), asn ("AS15169") and as_name.
//
// One file may give both; several may be loaded (a country database and an
// ASN database): for each address the first loaded database that has a
// country gives it, and likewise the ASN and its organization.
//
// Its first networks are read to check it: an error names the file by its
// base name and wraps ErrNotMMDB for a file that is not a MaxMind DB or is
// corrupt, ErrNoGeoFields for one without any of the fields above, and
// ErrNoEntries for one without data. Stats has the file as kind "geoip",
// named by its database type ("GeoLite2-ASN"), its entries being the nodes
// of its search tree as a measure of its size (its networks are not
// counted: walking them all would take seconds for a city database).
//
// The Set keeps the file memory-mapped, and open, until Close: replace a
// loaded file by renaming a new one over it, never by rewriting it in place.
// A gzip-compressed file is read into memory instead.
func (s *Set) LoadGeoIP(path string) error {
	base := filepath.Base(path)
	r, err := openMMDB(path)
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pathErr):
		return fmt.Errorf("geoip: %w", err) // names the file
	case err != nil:
		return fmt.Errorf("%s: %w", base, err)
	}
	return s.addGeoIP(r, base)
}

// addGeoIP checks r and adds it to the databases of the Set, or closes it.
func (s *Set) addGeoIP(r *maxminddb.Reader, source string) error {
	g := &geoDB{r: r, source: source, v4only: r.Metadata.IPVersion == 4,
		cache: map[uintptr]geoInfo{}, strs: map[string]string{}, cacheCap: geoCacheCap}
	st, err := g.check()
	if err != nil {
		r.Close()
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = append(s.stats, st)
	var l geoList
	if old := s.geo.Load(); old != nil {
		l = append(l, *old...)
	}
	l = append(l, g)
	s.geo.Store(&l)
	return nil
}

// Close releases the GeoIP databases of the Set at once (a Set dropped
// without Close releases them when it is garbage collected); the Set then
// classifies without them. Close must not run while Classify does: the
// databases are memory-mapped. Closing a Set without GeoIP databases, or
// closing twice, does nothing; databases may be loaded again after Close.
func (s *Set) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.geo.Swap(nil)
	if old == nil {
		return nil
	}
	var errs []error
	for _, g := range *old {
		if err := g.r.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", g.source, err))
		}
	}
	return errors.Join(errs...)
}

// openMMDB opens the file at path as a MaxMind DB: memory-mapped, or read
// into memory when it is gzip-compressed.
func openMMDB(path string) (*maxminddb.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file", ErrNotMMDB)
	}
	if fi.Size() == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrNotMMDB)
	}
	br := bufio.NewReader(f)
	var r *maxminddb.Reader
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r, err = maxminddb.OpenBytes(data)
		if err != nil {
			return nil, notMMDB(err)
		}
		return r, nil
	}
	r, err = maxminddb.Open(path)
	if err != nil {
		return nil, notMMDB(err)
	}
	return r, nil
}

// notMMDB marks the reader's complaints about the content as ErrNotMMDB.
func notMMDB(err error) error {
	var invalid maxminddb.InvalidDatabaseError
	var typ maxminddb.UnmarshalTypeError
	if errors.As(err, &invalid) || errors.As(err, &typ) {
		return fmt.Errorf("%w: %w", ErrNotMMDB, err)
	}
	return err
}

// check walks the first networks of the database and decodes their records
// until both a country and an ASN were seen, or geoSample records or
// geoSampleNets networks were. The walk includes networks without data and
// aliases so that each of its steps yields: a corrupt tree whose nodes
// share children cannot make it run long.
func (g *geoDB) check() (SourceStats, error) {
	md := &g.r.Metadata
	st := SourceStats{Source: g.source, Kind: KindGeoIP, Name: md.DatabaseType, Entries: int(min(md.NodeCount, 1<<31-1))}
	seen := map[uintptr]bool{}
	var country, asn bool
	nets := 0
	for res := range g.r.Networks(maxminddb.IncludeNetworksWithoutData(), maxminddb.IncludeAliasedNetworks()) {
		if err := res.Err(); err != nil {
			return st, fmt.Errorf("%s: %w: %w", g.source, ErrNotMMDB, err)
		}
		if nets++; nets > geoSampleNets || (country && asn) || len(seen) >= geoSample {
			break
		}
		if !res.Found() || seen[res.Offset()] {
			continue
		}
		seen[res.Offset()] = true
		var rec geoRecord
		if err := res.Decode(&rec); err != nil {
			return st, fmt.Errorf("%s: record of %s: %w: %w", g.source, res.Prefix(), ErrNotMMDB, err)
		}
		country = country || rec.country != ""
		asn = asn || rec.asn != 0
	}
	switch {
	case len(seen) == 0:
		return st, fmt.Errorf("%s: %w", g.source, ErrNoEntries)
	case !country && !asn:
		return st, fmt.Errorf("%s: database type %q: %w (want country.iso_code, country_code, autonomous_system_number or asn)",
			g.source, md.DatabaseType, ErrNoGeoFields)
	}
	return st, nil
}

// classify fills c's GeoIP fields for a (valid, unmapped, without zone)
// from the databases in order.
func (l geoList) classify(a netip.Addr, c *Class) {
	for _, g := range l {
		if c.Country != "" && c.ASN != 0 {
			return
		}
		info, ok := g.lookup(a)
		if !ok {
			continue
		}
		if c.Country == "" {
			c.Country = info.country
		}
		if c.ASN == 0 {
			c.ASN, c.ASOrg = info.asn, info.org
		}
	}
}

// lookup returns the record for a. It allocates only the first time it
// meets a record (until the cache starts afresh).
func (g *geoDB) lookup(a netip.Addr) (geoInfo, bool) {
	if g.v4only && !a.Is4() {
		return geoInfo{}, false
	}
	res := g.r.Lookup(a)
	if !res.Found() {
		return geoInfo{}, false
	}
	off := res.Offset()
	g.mu.RLock()
	info, ok := g.cache[off]
	g.mu.RUnlock()
	if !ok {
		info = g.fill(res, off)
	}
	return info, true
}

// fill decodes the record at off and caches it. A record that cannot be
// decoded says nothing, and is cached so: it is not decoded again.
func (g *geoDB) fill(res maxminddb.Result, off uintptr) geoInfo {
	var rec geoRecord
	if err := res.Decode(&rec); err != nil {
		rec = geoRecord{}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if info, ok := g.cache[off]; ok {
		return info
	}
	if len(g.cache) >= g.cacheCap {
		clear(g.cache)
		clear(g.strs)
	}
	info := geoInfo{country: g.intern(rec.country), asn: rec.asn}
	if rec.asn != 0 {
		info.org = g.intern(rec.org)
	}
	g.cache[off] = info
	return info
}

// intern returns the database's copy of s. g.mu is held.
func (g *geoDB) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := g.strs[s]; ok {
		return v
	}
	s = strings.Clone(s)
	g.strs[s] = s
	return s
}

// geoRecord is what LoadGeoIP reads of a record, whatever its layout.
type geoRecord struct {
	country string // ISO 3166-1 alpha-2, upper case
	asn     uint32
	org     string
}

var _ mmdbdata.CursorUnmarshaler = (*geoRecord)(nil)

// UnmarshalMaxMindDBCursor reads the known fields of a record's top-level
// map and skips the others. A record that is not a map, and fields of an
// unexpected type, say nothing; only malformed data is an error.
func (r *geoRecord) UnmarshalMaxMindDBCursor(cur mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	// Candidates in order of preference.
	var isoCode, countryCode, countryStr, registered string
	var mmASN, ipinfoASN, traitsASN uint32
	var mmOrg, ipinfoOrg, traitsOrg string
	end, err := readMap(cur, func(key string, val mmdbdata.Cursor) (next mmdbdata.Cursor, read bool, err error) {
		switch key {
		case "country":
			// A map for MaxMind and DB-IP; a string for IPinfo (its code in
			// Country ASN, its name in Lite).
			var k mmdbdata.Kind
			if k, err = val.Kind(); err == nil && k == mmdbdata.KindString {
				countryStr, next, err = readString(val)
			} else if err == nil {
				isoCode, next, err = readISOCode(val)
			}
		case "registered_country":
			registered, next, err = readISOCode(val)
		case "country_code":
			countryCode, next, err = readString(val)
		case "autonomous_system_number":
			mmASN, next, err = readASN(val)
		case "autonomous_system_organization":
			mmOrg, next, err = readString(val)
		case "asn":
			ipinfoASN, next, err = readASN(val)
		case "as_name":
			ipinfoOrg, next, err = readString(val)
		case "traits":
			next, err = readMap(val, func(key string, v mmdbdata.Cursor) (mmdbdata.Cursor, bool, error) {
				var n mmdbdata.Cursor
				var err error
				switch key {
				case "autonomous_system_number":
					traitsASN, n, err = readASN(v)
				case "autonomous_system_organization":
					traitsOrg, n, err = readString(v)
				default:
					return v, false, nil
				}
				return n, true, err
			})
		default:
			return val, false, nil
		}
		return next, true, err
	})
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	for _, c := range [...]string{isoCode, countryCode, countryStr, registered} {
		if code, ok := countryISO(c); ok {
			r.country = code
			break
		}
	}
	switch {
	case mmASN != 0:
		r.asn, r.org = mmASN, mmOrg
	case ipinfoASN != 0:
		r.asn, r.org = ipinfoASN, ipinfoOrg
	case traitsASN != 0:
		r.asn, r.org = traitsASN, traitsOrg
	}
	return end, nil
}

// readMap calls f for each entry of the map at cur; f returns the value's
// successor and true when it read the value, or false to have it skipped.
// A value that is not a map is skipped.
func readMap(cur mmdbdata.Cursor, f func(key string, v mmdbdata.Cursor) (mmdbdata.Cursor, bool, error)) (mmdbdata.Cursor, error) {
	if k, err := cur.Kind(); err != nil || k != mmdbdata.KindMap {
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		return cur.Skip()
	}
	m, err := cur.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		key, val, ok := m.Next(next)
		if !ok {
			break
		}
		n, read, err := f(string(key), val)
		if err == nil && !read {
			n, err = val.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
		next = n
	}
	return m.End()
}

// readISOCode reads the iso_code of the map at cur.
func readISOCode(cur mmdbdata.Cursor) (string, mmdbdata.Cursor, error) {
	var code string
	next, err := readMap(cur, func(key string, v mmdbdata.Cursor) (mmdbdata.Cursor, bool, error) {
		if key != "iso_code" {
			return v, false, nil
		}
		var n mmdbdata.Cursor
		var err error
		code, n, err = readString(v)
		return n, true, err
	})
	return code, next, err
}

// readString reads a string of at most maxGeoString bytes; a value of
// another kind is skipped and reads as "".
func readString(cur mmdbdata.Cursor) (string, mmdbdata.Cursor, error) {
	k, err := cur.Kind()
	if err != nil {
		return "", mmdbdata.Cursor{}, err
	}
	if k != mmdbdata.KindString {
		next, err := cur.Skip()
		return "", next, err
	}
	return cur.ReadStringMaxSize(maxGeoString)
}

// readASN reads an autonomous system number: an unsigned integer, or a
// string "AS15169" or "15169". Anything else, or out of range, reads as 0.
func readASN(cur mmdbdata.Cursor) (uint32, mmdbdata.Cursor, error) {
	k, err := cur.Kind()
	if err != nil {
		return 0, mmdbdata.Cursor{}, err
	}
	switch k {
	case mmdbdata.KindUint16, mmdbdata.KindUint32, mmdbdata.KindUint64, mmdbdata.KindInt32:
		v, signed, next, err := cur.ReadInteger()
		if err != nil || signed && int64(v) < 0 || v > 1<<32-1 {
			v = 0
		}
		return uint32(v), next, err
	case mmdbdata.KindString:
		s, next, err := cur.ReadStringMaxSize(maxGeoString)
		if err != nil {
			return 0, next, err
		}
		s = strings.TrimPrefix(strings.TrimPrefix(s, "AS"), "as")
		v, perr := strconv.ParseUint(s, 10, 32)
		if perr != nil {
			v = 0
		}
		return uint32(v), next, nil
	}
	next, err := cur.Skip()
	return 0, next, err
}

// countryISO returns s as an upper-case ISO 3166-1 alpha-2 code, when it
// is two ASCII letters.
func countryISO(s string) (string, bool) {
	if len(s) != 2 {
		return "", false
	}
	var b [2]byte
	for i := range 2 {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		default:
			return "", false
		}
		b[i] = c
	}
	if b[0] == s[0] && b[1] == s[1] {
		return s, true
	}
	return string(b[:]), true
}
