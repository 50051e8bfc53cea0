package hashivault

import (
	"bytes"

	"vaultwatch/internal/event"
)

// mountKind is the kind of secrets engine or auth method a path is served
// by, as far as classification cares.
type mountKind uint8

const (
	mountOther     mountKind = iota // pki, database, ssh, aws... : generic CRUD on paths
	mountSys                        // sys/: server management
	mountAuth                       // auth/<method>/ except the token store
	mountToken                      // auth/token/
	mountKV                         // kv (v1 or v2), generic
	mountCubbyhole                  // cubbyhole/: per-token secrets
	mountTransit                    // transit/: encryption as a service
	mountIdentity                   // identity/
)

// kindOf tells the mount kind from the entry's mount type (Vault Enterprise
// prefixes the built-in mounts of child namespaces with "ns_"), falling back
// on the mount's default path when the type is not written.
func kindOf(mount, mountType, mountClass, rel []byte) mountKind {
	t := bytes.TrimPrefix(mountType, []byte("ns_"))
	switch string(t) {
	case "system":
		return mountSys
	case "token":
		return mountToken
	case "kv", "kv-v1", "kv-v2", "generic":
		return mountKV
	case "cubbyhole":
		return mountCubbyhole
	case "transit":
		return mountTransit
	case "identity":
		return mountIdentity
	}
	switch string(mount) {
	case "sys/":
		return mountSys
	case "auth/token/":
		return mountToken
	case "cubbyhole/":
		return mountCubbyhole
	case "identity/":
		return mountIdentity
	}
	if bytes.HasPrefix(mount, []byte("auth/")) || string(mountClass) == "auth" {
		return mountAuth
	}
	if len(t) == 0 {
		switch {
		case string(mount) == "secret/" || string(mount) == "kv/":
			return mountKV
		case string(mount) == "transit/":
			return mountTransit
		case kvV2Prefix(rel) != "":
			return mountKV
		}
	}
	return mountOther
}

// versionSource says where a KV v2 response holds the version number.
type versionSource uint8

const (
	versionNone  versionSource = iota
	versionRead                // response data.metadata.version
	versionWrite               // response data.version
)

// classification is what the operation and path say about an access.
type classification struct {
	class   event.Class
	kind    event.ObjectKind
	name    []byte
	version versionSource
	// secretRead is a read or list of a KV or cubbyhole secret: a response
	// without data means the secret does not exist.
	secretRead bool
	// kvData is a KV v2 data/ read: null data means a deleted or destroyed
	// version.
	kvData bool
	// login is an auth method's login path.
	login bool
	// loginName is what follows login/ in a login path: the user name for
	// the methods that put it there.
	loginName []byte
}

// classify tells the class and object of an operation on a path. rel is the
// path within the mount.
func classify(op string, mk mountKind, path, rel []byte) classification {
	c := classification{kind: event.KindPath, name: rel}
	switch op {
	case "read", "list", "create", "update", "patch", "delete":
	default:
		// help, and the internal operations Vault audits for some paths
		// (alias-lookahead, resolve-role, header, renew, revoke, rollback).
		c.class = event.ClassOther
		if mk == mountSys {
			c.name = path
		}
		return c
	}
	switch mk {
	case mountSys:
		c.name = path
		c.class = classifySys(op, rel)
	case mountAuth:
		classifyAuth(op, rel, &c)
	case mountToken:
		c.class = classifyToken(op, rel)
	case mountKV:
		classifyKV(op, rel, &c)
	case mountCubbyhole:
		c.kind = event.KindSecret
		c.class = crud(op)
		c.secretRead = op == "read" || op == "list"
	case mountTransit:
		classifyTransit(op, rel, &c)
	case mountIdentity:
		c.class = classifyIdentity(op, rel)
	default:
		c.class = crud(op)
	}
	return c
}

// crud is the class of a plain operation.
func crud(op string) event.Class {
	switch op {
	case "read":
		return event.ClassRead
	case "list":
		return event.ClassList
	case "create", "update", "patch":
		return event.ClassWrite
	case "delete":
		return event.ClassDelete
	}
	return event.ClassOther
}

func isWrite(op string) bool { return op == "create" || op == "update" || op == "patch" }

// kvV2Prefixes are the KV v2 API prefixes under a mount.
var kvV2Prefixes = [...]string{"data/", "metadata/", "delete/", "destroy/", "undelete/", "subkeys/"}

// kvV2Prefix returns the KV v2 prefix rel starts with, or "". "data" and
// "metadata" alone (the mount's root) count too.
func kvV2Prefix(rel []byte) string {
	for _, p := range kvV2Prefixes {
		if bytes.HasPrefix(rel, []byte(p)) || string(rel) == p[:len(p)-1] {
			return p
		}
	}
	return ""
}

// classifyKV handles KV v1 and v2. A KV v2 path is told by its API prefix
// (the entry does not say the mount's version); any other path is a KV v1
// secret, so that a v1 secret named "config" still counts as a secret.
func classifyKV(op string, rel []byte, c *classification) {
	c.kind = event.KindSecret
	p := kvV2Prefix(rel)
	if p == "" {
		c.class = crud(op)
		c.secretRead = op == "read" || op == "list"
		return
	}
	if len(rel) >= len(p) {
		c.name = rel[len(p):]
	} else {
		c.name = nil
	}
	switch p {
	case "data/":
		c.class = crud(op)
		switch {
		case op == "read":
			c.version = versionRead
			c.secretRead = true
			c.kvData = true
		case isWrite(op):
			c.version = versionWrite
		}
	case "metadata/":
		switch {
		case op == "delete": // every version and the metadata
			c.class = event.ClassPurge
		default:
			c.class = crud(op)
			c.secretRead = op == "read" || op == "list"
		}
	case "delete/": // soft-delete of versions
		c.class = event.ClassDelete
	case "destroy/": // permanent deletion of versions
		c.class = event.ClassPurge
	case "undelete/":
		c.class = event.ClassRecover
	case "subkeys/":
		c.class = crud(op)
		c.secretRead = op == "read"
	}
	if op == "list" {
		c.class = event.ClassList
	}
}

// classifySys handles the system backend. Policy writes and deletes change
// policy; informational endpoints that tools call on every command
// (capabilities, internal/ui mount lookups, tools, wrapping lookups, health)
// are "other"; the rest manages the server.
func classifySys(op string, rel []byte) event.Class {
	switch {
	case op == "list":
		return event.ClassList
	case bytes.HasPrefix(rel, []byte("audit/")) && (isWrite(op) || op == "delete"):
		return event.ClassAuditConfig // an audit device enabled, changed or disabled
	case hasSeg(rel, "policy") || hasSeg(rel, "policies"):
		if isWrite(op) || op == "delete" {
			return event.ClassPolicyChange
		}
		return event.ClassManagement
	case hasSeg(rel, "wrapping/unwrap"):
		return event.ClassRead // returns the wrapped response, possibly a secret
	case hasSeg(rel, "mfa/validate"):
		return event.ClassAuth
	case hasSeg(rel, "capabilities") || hasSeg(rel, "capabilities-self") ||
		hasSeg(rel, "capabilities-accessor") || hasSeg(rel, "internal") ||
		hasSeg(rel, "tools") || hasSeg(rel, "wrapping") || hasSeg(rel, "health") ||
		hasSeg(rel, "seal-status") || hasSeg(rel, "leader") || hasSeg(rel, "host-info") ||
		hasSeg(rel, "version-history") || hasSeg(rel, "ha-status") || hasSeg(rel, "key-status"):
		return event.ClassOther
	}
	return event.ClassManagement
}

// classifyAuth handles an auth method other than the token store. Logins
// (and OIDC's auth_url/callback steps) are auth; writes or deletes of a
// user's or group's policies change policy; the rest (users, roles,
// secret ids, config) manages the method.
func classifyAuth(op string, rel []byte, c *classification) {
	switch {
	case hasSeg(rel, "login"):
		c.class = event.ClassAuth
		c.login = true
		if i := bytes.IndexByte(rel, '/'); i >= 0 && i+1 < len(rel) {
			c.loginName = rel[i+1:]
		}
	case hasSeg(rel, "oidc/callback") || hasSeg(rel, "oidc/auth_url") ||
		hasSeg(rel, "callback") || hasSeg(rel, "auth_url"):
		c.class = event.ClassAuth
		c.login = true
	case op == "list":
		c.class = event.ClassList
	case (isWrite(op) || op == "delete") && bytes.HasSuffix(rel, []byte("/policies")):
		c.class = event.ClassPolicyChange
	default:
		c.class = event.ClassManagement
	}
}

// classifyToken handles the token store: creating, renewing and revoking
// tokens is auth; looking up tokens (tools do it on every command) is other;
// roles and tidy are management.
func classifyToken(op string, rel []byte) event.Class {
	switch {
	case op == "list":
		return event.ClassList
	case hasSeg(rel, "create") || hasSeg(rel, "create-orphan") ||
		bytes.HasPrefix(rel, []byte("renew")) || bytes.HasPrefix(rel, []byte("revoke")):
		return event.ClassAuth
	case bytes.HasPrefix(rel, []byte("lookup")):
		return event.ClassOther
	}
	return event.ClassManagement
}

// classifyIdentity handles the identity store: issuing an identity token is
// auth; the rest (entities, groups, aliases, OIDC config) is management.
func classifyIdentity(op string, rel []byte) event.Class {
	switch {
	case op == "list":
		return event.ClassList
	case bytes.HasPrefix(rel, []byte("oidc/token/")):
		return event.ClassAuth
	}
	return event.ClassManagement
}

// classifyTransit handles the transit engine: using a key is crypto,
// exporting it is a read, backing it up and restoring it are backup and
// restore, key creation, configuration and rotation are writes.
func classifyTransit(op string, rel []byte, c *classification) {
	seg, rest := cut(rel)
	c.kind = event.KindKey
	switch string(seg) {
	case "encrypt", "decrypt", "rewrap", "sign", "verify", "hmac":
		c.class = event.ClassCrypto
		c.name, _ = cut(rest)
	case "datakey": // datakey/<plaintext|wrapped>/<name>
		c.class = event.ClassCrypto
		_, rest = cut(rest)
		c.name, _ = cut(rest)
	case "keys":
		c.name, rest = cut(rest)
		switch {
		case op == "list":
			c.class = event.ClassList
		case len(rest) > 0: // keys/<name>/rotate, /config, /trim, /import...
			c.class = event.ClassWrite
		default:
			c.class = crud(op)
		}
	case "export", "byok-export": // export/<type>/<name>[/<version>]
		c.class = event.ClassRead
		_, rest = cut(rest)
		c.name, _ = cut(rest)
	case "backup":
		c.class = event.ClassBackup
		c.name, _ = cut(rest)
	case "restore":
		c.class = event.ClassRestore
		c.name, _ = cut(rest)
	case "random", "hash":
		c.class = event.ClassCrypto
		c.kind, c.name = event.KindPath, rel
	default: // config, cache-config, wrapping_key...
		c.kind, c.name = event.KindPath, rel
		if op == "list" {
			c.class = event.ClassList
		} else {
			c.class = event.ClassManagement
		}
	}
}

// cut splits p at its first slash.
func cut(p []byte) (seg, rest []byte) {
	if i := bytes.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, nil
}

// hasSeg reports whether rel is prefix or starts with prefix followed by a
// slash.
func hasSeg(rel []byte, prefix string) bool {
	return bytes.HasPrefix(rel, []byte(prefix)) &&
		(len(rel) == len(prefix) || rel[len(prefix)] == '/')
}
