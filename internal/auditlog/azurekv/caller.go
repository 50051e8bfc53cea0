package azurekv

import (
	"bytes"
	"encoding/binary"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
)

// claims holds the token claims Key Vault logs about the caller, indexed
// by the claim constants below. Data-plane records use short claim names,
// control-plane (Vault*) records long URI names, and Log Analytics
// flattens both into identity_claim_* columns.
type claims [numClaims][]byte

// The claims the decoder reads, as indexes of claims.
const (
	cOID = iota
	cOIDLong
	cUPN
	cUPNLong
	cNameLong
	cUniqueName
	cAppID
	cAZP
	cIDTyp
	cMIRID
	cTID
	cTIDLong
	numClaims
)

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
	if n := claimIndex(name); n >= 0 {
		return &c[n]
	}
	return nil
}

// claimIndex is the index in claims of the claim of that name, or -1 for
// a claim the decoder does not read.
func claimIndex(name []byte) int {
	switch string(name) {
	case "oid":
		return cOID
	case claimOIDLong, flatOIDLong:
		return cOIDLong
	case "upn":
		return cUPN
	case claimUPNLong, flatUPNLong:
		return cUPNLong
	case claimNameLong, flatNameLong:
		return cNameLong
	case "unique_name":
		return cUniqueName
	case "appid":
		return cAppID
	case "azp":
		return cAZP
	case "idtyp":
		return cIDTyp
	case "xms_mirid":
		return cMIRID
	case "tid":
		return cTID
	case claimTIDLong, flatTIDLong:
		return cTIDLong
	}
	return -1
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
	for _, v := range c {
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
	cl.ObjectID = in.Bytes(first(c[cOID], c[cOIDLong]))
	upn := first(c[cUPN], c[cUPNLong])
	if len(upn) == 0 && bytes.IndexByte(c[cUniqueName], '@') >= 0 {
		upn = c[cUniqueName]
	}
	cl.UPN = in.Bytes(upn)
	cl.AppID = in.Bytes(first(c[cAppID], c[cAZP]))
	cl.TenantID = in.Bytes(first(c[cTID], c[cTIDLong]))
	if len(c[cMIRID]) > 0 {
		cl.ResourceID = in.Lower(bytes.TrimRight(c[cMIRID], "/"))
	}

	switch {
	case len(c[cMIRID]) > 0:
		cl.Type = event.IdentityManagedIdentity
		m := bytes.TrimRight(c[cMIRID], "/")
		cl.DisplayName = in.Bytes(m[bytes.LastIndexByte(m, '/')+1:])
	case string(c[cIDTyp]) == "app":
		cl.Type = event.IdentityServicePrincipal
	case string(c[cIDTyp]) == "user" || len(upn) > 0:
		cl.Type = event.IdentityUser
	case cl.ObjectID != "" || cl.AppID != "":
		cl.Type = event.IdentityServicePrincipal
	case len(c[cNameLong]) > 0:
		cl.Type = event.IdentityUser
	default:
		cl.Type = event.IdentityAnonymous
	}
	if cl.DisplayName == "" {
		if cl.UPN != "" {
			cl.DisplayName = cl.UPN
		} else {
			cl.DisplayName = in.Bytes(c[cNameLong])
		}
	}
}

func first(a, b []byte) []byte {
	if len(a) > 0 {
		return a
	}
	return b
}
