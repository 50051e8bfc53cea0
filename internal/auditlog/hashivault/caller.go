package hashivault

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// The caller is the token the entry's auth block describes.
//
//   - VaultEntityID is auth.entity_id, DisplayName auth.display_name,
//     Policies auth.policies; Privileged is set when they include "root".
//   - TokenAccessor is auth.accessor as the device wrote it: HMAC-ed
//     ("hmac-sha256:...") or masked ("****"). A device with log_raw writes
//     the accessor in clear: it is then replaced by "sha256:" and the first
//     32 hex digits of its SHA-256, so that it still identifies the token
//     without being usable.
//   - UPN is auth.metadata.username (userpass, ldap, okta, radius, github);
//     for a login through userpass, ldap, okta or radius that did not
//     succeed, the user named in the path (auth/<method>/login/<user>).
//   - Type: a token Vault did not resolve (no accessor, display name,
//     entity or policies: no token, an invalid or expired token, a login
//     before it succeeds) is anonymous, except a failed login naming a user,
//     which is that user's. Otherwise the caller is a user when the
//     metadata holds a username or the display name comes from a human
//     login method (oidc-, userpass-, ldap-, okta-, github-, radius-); a
//     service principal when the token carries other metadata (approle's
//     role_name, kubernetes' service account, jwt's role, cert's name,
//     cloud accounts, tokens minted for workloads) or its display name comes
//     from a machine method (approle, kubernetes, jwt, cert, aws, gcp,
//     azure, alicloud, oci); and a user in every other case (root tokens,
//     plain tokens from auth/token/create).
func (d *Decoder) caller(ev *event.Event, e *entry, mount, mountType []byte, c classification) {
	cl := &ev.Caller
	a := e.auth
	if resolved(a) {
		display := record.Str(a, "display_name")
		cl.DisplayName = d.in.Bytes(display)
		cl.VaultEntityID = d.in.Bytes(record.Str(a, "entity_id"))
		cl.TokenAccessor = d.accessor(record.Str(a, "accessor"))
		cl.Policies, cl.Privileged = d.pol.get(&d.in, a.Get("policies"))
		var user []byte
		metadata := 0
		if m := object(a, "metadata"); m != nil {
			user = record.Str(m, "username")
			o, _ := m.Object()
			metadata = o.Len()
		}
		cl.UPN = d.in.Bytes(user)
		cl.Type = identityType(display, user, metadata)
	} else {
		cl.Type = event.IdentityAnonymous
	}
	if c.login && cl.UPN == "" && len(c.loginName) > 0 && namesUser(mount, mountType) {
		cl.UPN = d.in.Bytes(c.loginName)
		if cl.Type == event.IdentityAnonymous {
			cl.Type = event.IdentityUser
		}
	}
}

// resolved reports whether auth describes a token Vault resolved.
func resolved(auth *fastjson.Value) bool {
	if auth == nil {
		return false
	}
	if len(record.Str(auth, "accessor")) > 0 || len(record.Str(auth, "display_name")) > 0 ||
		len(record.Str(auth, "entity_id")) > 0 {
		return true
	}
	p := auth.Get("policies")
	if p == nil || p.Type() != fastjson.TypeArray {
		return false
	}
	a, _ := p.Array()
	return len(a) > 0
}

var (
	humanMethods   = [...]string{"oidc", "userpass", "ldap", "okta", "github", "radius"}
	machineMethods = [...]string{"approle", "kubernetes", "jwt", "cert", "aws", "gcp", "azure", "alicloud", "oci"}
)

func identityType(display, user []byte, metadata int) event.IdentityType {
	switch {
	case len(user) > 0 || fromMethod(display, humanMethods[:]):
		return event.IdentityUser
	case metadata > 0 || fromMethod(display, machineMethods[:]):
		return event.IdentityServicePrincipal
	}
	return event.IdentityUser
}

// fromMethod reports whether a display name was made by a login through
// one of the methods at its default path: "<method>" or "<method>-<name>".
func fromMethod(display []byte, methods []string) bool {
	for _, m := range methods {
		if bytes.HasPrefix(display, []byte(m)) &&
			(len(display) == len(m) || display[len(m)] == '-') {
			return true
		}
	}
	return false
}

// namesUser reports whether the auth method puts the user name in its login
// path, from the mount type or else the mount's path.
func namesUser(mount, mountType []byte) bool {
	t := mountType
	if len(t) == 0 {
		t = bytes.TrimSuffix(bytes.TrimPrefix(mount, []byte("auth/")), []byte("/"))
	}
	switch string(t) {
	case "userpass", "ldap", "okta", "radius":
		return true
	}
	return false
}

const hmacPrefix = "hmac-sha256:"

// accessor returns the token accessor as it may be kept: HMAC-ed or masked
// as written, hashed when written in clear.
func (d *Decoder) accessor(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if bytes.HasPrefix(b, []byte(hmacPrefix)) || masked(b) {
		return d.in.Bytes(b)
	}
	sum := sha256.Sum256(b)
	var out [len("sha256:") + 32]byte
	copy(out[:], "sha256:")
	hex.Encode(out[len("sha256:"):], sum[:16])
	return d.in.Bytes(out[:])
}

// masked reports whether b is a mask such as "****".
func masked(b []byte) bool {
	for _, c := range b {
		if c != '*' {
			return false
		}
	}
	return true
}

// policySets shares one immutable slice per distinct list of policies, so
// that an event's Policies can be kept by a receiver after a struct copy and
// cost no allocation once seen. It is bounded like an Interner.
type policySets struct {
	m   map[string][]string
	key []byte
}

const maxPolicySets = 4096

// get returns the shared slice for the policy list v, and whether it holds
// "root".
func (p *policySets) get(in *record.Interner, v *fastjson.Value) ([]string, bool) {
	if v == nil || v.Type() != fastjson.TypeArray {
		return nil, false
	}
	a, _ := v.Array()
	key := p.key[:0]
	root := false
	n := 0
	for _, x := range a {
		if x.Type() != fastjson.TypeString {
			continue
		}
		b, _ := x.StringBytes()
		if string(b) == "root" {
			root = true
		}
		key = binary.AppendUvarint(key, uint64(len(b)))
		key = append(key, b...)
		n++
	}
	p.key = key
	if n == 0 {
		return nil, root
	}
	if s, ok := p.m[string(key)]; ok {
		return s, root
	}
	if p.m == nil || len(p.m) >= maxPolicySets {
		p.m = make(map[string][]string, 64)
	}
	s := make([]string, 0, n)
	for _, x := range a {
		if x.Type() == fastjson.TypeString {
			b, _ := x.StringBytes()
			s = append(s, in.Bytes(b))
		}
	}
	s = s[:n:n]
	p.m[string(key)] = s
	return s, root
}
