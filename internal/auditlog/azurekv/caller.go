package azurekv

import (
	"bytes"
	"encoding/binary"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
)

// claims holds the token claims Key Vault logs about the caller. Data-plane
// records use short claim names, control-plane (Vault*) records long URI
// names, and Log Analytics flattens both into identity_claim_* columns.
type claims struct {
	oid, oidLong         []byte
	upn, upnLong         []byte
	nameLong, uniqueName []byte
	appid, azp           []byte
	idtyp                []byte
	mirid                []byte
	tid, tidLong         []byte
}

// Claim names, as written in identity.claim and, with "/", ":" and "." as
// "_", in flattened columns.
const (
	claimOIDLong  = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	claimTIDLong  = "http://schemas.microsoft.com/identity/claims/tenantid"
	claimUPNLong  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
	claimNameLong = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"

	flatOIDLong  = "http_schemas_microsoft_com_identity_claims_objectidentifier"
	flatTIDLong  = "http_schemas_microsoft_com_identity_claims_tenantid"
	flatUPNLong  = "http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn"
	flatNameLong = "http_schemas_xmlsoap_org_ws_2005_05_identity_claims_name"
)

// field returns where the claim of that name is kept, or nil for a claim
// the decoder does not read.
func (c *claims) field(name []byte) *[]byte {
	return c.at(claimIndex(name))
}

// numClaims is the number of claims the decoder reads.
const numClaims = 12

// claimIndex numbers the claims the decoder reads, from 0; it returns -1
// for another claim.
func claimIndex(name []byte) int {
	switch string(name) {
	case "oid":
		return 0
	case claimOIDLong, flatOIDLong:
		return 1
	case "upn":
		return 2
	case claimUPNLong, flatUPNLong:
		return 3
	case claimNameLong, flatNameLong:
		return 4
	case "unique_name":
		return 5
	case "appid":
		return 6
	case "azp":
		return 7
	case "idtyp":
		return 8
	case "xms_mirid":
		return 9
	case "tid":
		return 10
	case claimTIDLong, flatTIDLong:
		return 11
	}
	return -1
}

// at returns where the claim numbered n (claimIndex) is kept, or nil.
func (c *claims) at(n int) *[]byte {
	switch n {
	case 0:
		return &c.oid
	case 1:
		return &c.oidLong
	case 2:
		return &c.upn
	case 3:
		return &c.upnLong
	case 4:
		return &c.nameLong
	case 5:
		return &c.uniqueName
	case 6:
		return &c.appid
	case 7:
		return &c.azp
	case 8:
		return &c.idtyp
	case 9:
		return &c.mirid
	case 10:
		return &c.tid
	case 11:
		return &c.tidLong
	}
	return nil
}

// setTree records one claim read by the tree reader; values that are
// empty or not strings are ignored (the raw reader does the same).
func (c *claims) setTree(name []byte, x *fastjson.Value) {
	if dst := c.field(name); dst != nil {
		if v := str(x); len(v) > 0 {
			*dst = v
		}
	}
}

// appendKey appends the claims to key, each after its length, so that
// equal keys mean equal claims.
func (c *claims) appendKey(key []byte) []byte {
	for _, v := range [...][]byte{c.oid, c.oidLong, c.upn, c.upnLong, c.nameLong, c.uniqueName,
		c.appid, c.azp, c.idtyp, c.mirid, c.tid, c.tidLong} {
		key = binary.AppendUvarint(key, uint64(len(v)))
		key = append(key, v...)
	}
	return key
}

// flatClaimName strips the Log Analytics type suffix ("_g", "_s") from a
// flattened claim column name without its "identity_claim_" prefix.
func flatClaimName(c []byte) []byte {
	if n := len(c); n > 2 && c[n-2] == '_' {
		return c[:n-2]
	}
	return c
}

// claims reads identity.claim (or the Identity column, an object or its
// JSON text) into d.f.claims, beside any flattened claim columns.
func (d *Decoder) claims(id *fastjson.Value) {
	if id == nil {
		return
	}
	switch id.Type() {
	case fastjson.TypeString:
		b, _ := id.StringBytes()
		if len(b) == 0 {
			return
		}
		v, err := d.idp.ParseBytes(b)
		if err != nil {
			return
		}
		id = v
	case fastjson.TypeObject:
	default:
		return
	}
	claim := id.Get("claim")
	if claim == nil {
		claim = id
	}
	c := &d.f.claims
	claim.GetObject().Visit(c.setTree)
}

// caller sets ev.Caller from the claims.
func (d *Decoder) caller(ev *event.Event) {
	e := d.f.idEntry
	if e != nil && e.callerOK {
		ev.Caller = e.caller
		return
	}
	d.key = d.f.claims.appendKey(d.key[:0])
	c, ok := d.who.get(d.key)
	if !ok {
		d.makeCaller(&c)
		d.who.put(d.key, c)
	}
	ev.Caller = c
	if e != nil {
		e.caller, e.callerOK = c, true
	}
}

// makeCaller fills cl from the claims.
func (d *Decoder) makeCaller(cl *event.Caller) {
	c := &d.f.claims
	in := &d.in
	cl.ObjectID = in.Bytes(first(c.oid, c.oidLong))
	upn := first(c.upn, c.upnLong)
	if len(upn) == 0 && bytes.IndexByte(c.uniqueName, '@') >= 0 {
		upn = c.uniqueName
	}
	cl.UPN = in.Bytes(upn)
	cl.AppID = in.Bytes(first(c.appid, c.azp))
	cl.TenantID = in.Bytes(first(c.tid, c.tidLong))
	if len(c.mirid) > 0 {
		cl.ResourceID = in.Lower(bytes.TrimRight(c.mirid, "/"))
	}

	switch {
	case len(c.mirid) > 0:
		cl.Type = event.IdentityManagedIdentity
		m := bytes.TrimRight(c.mirid, "/")
		cl.DisplayName = in.Bytes(m[bytes.LastIndexByte(m, '/')+1:])
	case string(c.idtyp) == "app":
		cl.Type = event.IdentityServicePrincipal
	case string(c.idtyp) == "user" || len(upn) > 0:
		cl.Type = event.IdentityUser
	case cl.ObjectID != "" || cl.AppID != "":
		cl.Type = event.IdentityServicePrincipal
	case len(c.nameLong) > 0:
		cl.Type = event.IdentityUser
	default:
		cl.Type = event.IdentityAnonymous
	}
	if cl.DisplayName == "" {
		if cl.UPN != "" {
			cl.DisplayName = cl.UPN
		} else {
			cl.DisplayName = in.Bytes(c.nameLong)
		}
	}
}

func first(a, b []byte) []byte {
	if len(a) > 0 {
		return a
	}
	return b
}
