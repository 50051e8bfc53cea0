package intel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxCloudFile bounds a cloud-ranges document (Azure's service tags file,
// the largest, is about 4 MB).
const maxCloudFile = 256 << 20

// AddCloudRanges loads a cloud provider's published address ranges from r,
// sniffing which of these it is:
//
//   - Azure service tags, the weekly download or `az network
//     list-service-tags`: {"values":[{"name","properties":{"region",
//     "systemService","addressPrefixes":[...]}}]}. Service is the tag name
//     ("AzureKeyVault.WestEurope").
//   - AWS ip-ranges.json: {"prefixes":[{"ip_prefix","region","service"}],
//     "ipv6_prefixes":[{"ipv6_prefix","region","service"}]}.
//   - GCP cloud.json: {"prefixes":[{"ipv4Prefix"|"ipv6Prefix","service",
//     "scope"}]} (scope is the region).
//
// When an address is in several ranges the most specific prefix wins; for
// the same prefix a regional service tag wins over a global one, and any
// service over the provider's catch-all ("AzureCloud", "AMAZON"). source
// names r in errors and Stats. Malformed prefixes are skipped and counted;
// the error is non-nil only when r is not JSON of one of these shapes or
// holds no valid prefix.
func (s *Set) AddCloudRanges(r io.Reader, source string) error {
	data, err := io.ReadAll(io.LimitReader(r, maxCloudFile+1))
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}
	if len(data) > maxCloudFile {
		return fmt.Errorf("%s: larger than %d bytes: %w", source, maxCloudFile, ErrUnknownFormat)
	}
	var doc cloudDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("%s:%d: not JSON: %w", source, lineAt(data, int(se.Offset)), err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := te.Field
			if field == "" {
				field = "the document"
			}
			return fmt.Errorf("%s:%d: %w: %s is a JSON %s", source, lineAt(data, int(te.Offset)), ErrUnknownFormat, field, te.Value)
		}
		return fmt.Errorf("%s: %w: %w", source, ErrUnknownFormat, err)
	}
	p := &cloudParser{source: source, loc: locator{data: data, line: 1}}
	switch {
	case doc.Values != nil:
		p.st.Name = CloudAzure
		p.azure(*doc.Values)
	case doc.Prefixes != nil || doc.IPv6Prefixes != nil:
		p.prefixes("prefixes", doc.Prefixes)
		p.prefixes("ipv6_prefixes", doc.IPv6Prefixes)
	default:
		return fmt.Errorf("%s: %w: no \"values\" (Azure service tags) or \"prefixes\" (AWS, GCP)", source, ErrUnknownFormat)
	}
	p.st.Source, p.st.Kind, p.st.Entries = source, "cloud", len(p.es)
	return s.commit(p.st, p.es, p.metas, "")
}

type cloudDoc struct {
	Values       *[]azureTag   `json:"values"`
	Prefixes     []cloudPrefix `json:"prefixes"`
	IPv6Prefixes []cloudPrefix `json:"ipv6_prefixes"`
}

type azureTag struct {
	Name       string `json:"name"`
	Properties struct {
		Region          string   `json:"region"`
		SystemService   string   `json:"systemService"`
		AddressPrefixes []string `json:"addressPrefixes"`
	} `json:"properties"`
}

// cloudPrefix is an AWS or a GCP prefix entry.
type cloudPrefix struct {
	IPPrefix   string `json:"ip_prefix"`   // AWS
	IPv6Prefix string `json:"ipv6_prefix"` // AWS
	Region     string `json:"region"`      // AWS
	V4Prefix   string `json:"ipv4Prefix"`  // GCP
	V6Prefix   string `json:"ipv6Prefix"`  // GCP
	Scope      string `json:"scope"`       // GCP
	Service    string `json:"service"`
}

type cloudParser struct {
	source string
	st     SourceStats
	es     []entry
	metas  []cloudMeta
	ids    map[cloudMeta]int32
	loc    locator
}

func (p *cloudParser) meta(m cloudMeta) int32 {
	if p.ids == nil {
		p.ids = map[cloudMeta]int32{}
	}
	id, ok := p.ids[m]
	if !ok {
		id = int32(len(p.metas))
		p.metas = append(p.metas, m)
		p.ids[m] = id
	}
	return id
}

func (p *cloudParser) add(path, value string, meta int32) {
	pf, ok := parsePrefix(strings.TrimSpace(value))
	if !ok {
		p.st.skip(&ParseError{Source: p.source, Line: p.loc.find(value), Path: path, Value: shorten(value), Err: ErrNotPrefix})
		return
	}
	p.es = append(p.es, entry{p: pf, list: -1, cloud: meta})
}

func (p *cloudParser) azure(tags []azureTag) {
	for i, t := range tags {
		// AzureCloud and AzureCloud.<region> are every Azure address:
		// the catch-all that any service tag refines.
		var rank int8 = 2
		if t.Name == "AzureCloud" || strings.HasPrefix(t.Name, "AzureCloud.") {
			rank = 0
		}
		if t.Properties.Region != "" {
			rank++
		}
		id := p.meta(cloudMeta{cloud: CloudAzure, service: t.Name, region: t.Properties.Region, rank: rank})
		for j, v := range t.Properties.AddressPrefixes {
			p.add("values["+strconv.Itoa(i)+"].properties.addressPrefixes["+strconv.Itoa(j)+"]", v, id)
		}
	}
}

func (p *cloudParser) prefixes(field string, ps []cloudPrefix) {
	for i, c := range ps {
		path := field + "[" + strconv.Itoa(i) + "]"
		m := cloudMeta{service: c.Service, rank: 2}
		var value string
		switch {
		case c.IPPrefix != "":
			m.cloud, m.region, value, path = CloudAWS, c.Region, c.IPPrefix, path+".ip_prefix"
		case c.IPv6Prefix != "":
			m.cloud, m.region, value, path = CloudAWS, c.Region, c.IPv6Prefix, path+".ipv6_prefix"
		case c.V4Prefix != "":
			m.cloud, m.region, value, path = CloudGCP, c.Scope, c.V4Prefix, path+".ipv4Prefix"
		case c.V6Prefix != "":
			m.cloud, m.region, value, path = CloudGCP, c.Scope, c.V6Prefix, path+".ipv6Prefix"
		default:
			p.st.skip(&ParseError{Source: p.source, Path: path, Err: ErrNotPrefix})
			continue
		}
		// AWS's AMAZON and Google's goog.json (no service) are every
		// address of the provider: the catch-all that services refine.
		if (m.cloud == CloudAWS && m.service == "AMAZON") || m.service == "" {
			m.rank = 0
		}
		if m.region != "" && m.region != "GLOBAL" {
			m.rank++
		}
		if p.st.Name == "" {
			p.st.Name = m.cloud
		}
		p.add(path, value, p.meta(m))
	}
}

// locator finds the line of a JSON string value, searching forward from the
// last one found, since values are visited in document order.
type locator struct {
	data []byte
	off  int // where the last search ended
	line int // the line at off
}

func (l *locator) find(value string) int {
	if value == "" || strings.ContainsAny(value, "\"\\") {
		return 0
	}
	q := `"` + value + `"`
	if i := bytes.Index(l.data[l.off:], []byte(q)); i >= 0 {
		l.line += bytes.Count(l.data[l.off:l.off+i], []byte("\n"))
		l.off += i + len(q)
		return l.line
	}
	if i := bytes.Index(l.data, []byte(q)); i >= 0 { // before the last one: rare
		return lineAt(l.data, i)
	}
	return 0
}

// lineAt is the 1-based line of byte offset off in data.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}
