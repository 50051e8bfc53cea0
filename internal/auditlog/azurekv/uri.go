package azurekv

import (
	"bytes"

	"vaultwatch/internal/event"
)

// splitURL returns the host and the path of an absolute URL, without port,
// query or fragment. A text without a scheme is taken as a path.
func splitURL(u []byte) (host, path []byte) {
	if i := bytes.Index(u, []byte("://")); i >= 0 {
		u = u[i+3:]
		if j := bytes.IndexAny(u, "/?#"); j >= 0 {
			host, path = u[:j], u[j:]
		} else {
			host = u
		}
		if j := bytes.IndexByte(host, ':'); j >= 0 {
			host = host[:j]
		}
	} else {
		path = u
	}
	if j := bytes.IndexAny(path, "?#"); j >= 0 {
		path = path[:j]
	}
	return host, path
}

// vaultHost returns the vault name of a data-plane URL
// (https://NAME.vault.azure.net/..., NAME.managedhsm.azure.net), or nil.
func vaultHost(u []byte) []byte {
	host, _ := splitURL(u)
	i := bytes.IndexByte(host, '.')
	if i <= 0 {
		return nil
	}
	rest := host[i+1:]
	if !hasPrefixFold(rest, "vault.") && !hasPrefixFold(rest, "managedhsm.") {
		return nil
	}
	return host[:i]
}

// armVaultName returns NAME from a management URL whose path holds
// /vaults/NAME or /managedHSMs/NAME, or nil.
func armVaultName(u []byte) []byte {
	_, path := splitURL(u)
	for _, seg := range []string{"/providers/microsoft.keyvault/vaults/", "/providers/microsoft.keyvault/managedhsms/"} {
		if i := indexFold(path, seg); i >= 0 {
			name := path[i+len(seg):]
			if j := bytes.IndexByte(name, '/'); j >= 0 {
				name = name[:j]
			}
			if len(name) > 0 {
				return name
			}
		}
	}
	return nil
}

// parseObjectURI reads the object of a Key Vault object URI or request URI:
// /secrets/NAME[/VERSION], /keys/..., /certificates/..., and their
// deleted* collections. A request URI may end with an action
// (/keys/NAME/VERSION/sign, /secrets/NAME/backup) or name no object
// (/secrets/restore); fromID says u is an object id, which never does.
func parseObjectURI(u []byte, fromID bool) (kind event.ObjectKind, name, version []byte, ok bool) {
	_, path := splitURL(u)
	path = bytes.TrimPrefix(path, []byte("/"))
	var seg [3][]byte
	for i := range seg {
		j := bytes.IndexByte(path, '/')
		if j < 0 {
			seg[i], path = path, nil
			break
		}
		seg[i], path = path[:j], path[j+1:]
	}
	coll, name, ver := seg[0], seg[1], seg[2]
	switch {
	case eqFold(coll, "secrets"), eqFold(coll, "deletedsecrets"):
		kind = event.KindSecret
	case eqFold(coll, "keys"), eqFold(coll, "deletedkeys"):
		kind = event.KindKey
	case eqFold(coll, "certificates"), eqFold(coll, "deletedcertificates"):
		if eqFold(name, "issuers") || eqFold(name, "contacts") {
			return "", nil, nil, false
		}
		kind = event.KindCertificate
	default:
		return "", nil, nil, false
	}
	if len(name) == 0 {
		return "", nil, nil, false
	}
	if !fromID && len(ver) == 0 && eqFold(name, "restore") {
		return "", nil, nil, false
	}
	if !isVersion(ver) {
		ver = nil
	}
	return kind, name, ver, true
}

// isVersion reports whether b looks like an object version: Key Vault
// writes 32 lower-case hex digits.
func isVersion(b []byte) bool {
	if len(b) < 16 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func eqFold(b []byte, s string) bool {
	return len(b) == len(s) && bytes.EqualFold(b, []byte(s))
}

func hasPrefixFold(b []byte, s string) bool {
	return len(b) >= len(s) && bytes.EqualFold(b[:len(s)], []byte(s))
}
