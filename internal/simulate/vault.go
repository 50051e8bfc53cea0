package simulate

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mount details of the simulated Vault cluster, as a v1.21 server writes
// them.
const (
	vaultCoreVersion = "v1.21.0+builtin.vault"
	vaultKVVersion   = "v0.25.0+builtin"
	vaultTransit     = "transit/"
	vaultAuditPath   = "file"
)

// Errors as the audit device writes them.
const (
	vaultErrDenied      = "1 error occurred:\n\t* permission denied\n\n"
	vaultErrInvalidTok  = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"
	vaultErrUnsupported = "1 error occurred:\n\t* unsupported path\n\n"
	vaultErrInternal    = "1 error occurred:\n\t* internal error\n\n"
)

// vaultWriter writes the file audit device log of one Vault cluster whose
// KV v2 mounts are the simulated vaults.
type vaultWriter struct {
	dir  string
	org  *Org
	seed uint64
	rng  *rand.Rand
	key  []byte // HMAC key of the audit device

	f *os.File
	w *bufio.Writer

	versions map[string]int // "<mount>\x00<secret>\x00<version>" -> number
	current  map[string]int // "<mount>\x00<secret>" -> latest number
	skipped  int
}

// NewVaultWriter returns a writer of HashiCorp Vault file audit device
// entries (a request and a response entry per call, every string value
// HMAC-ed as the default device does) for the accesses to Vault vaults,
// written to dir/vault/audit.log. Each vault is a KV v2 mount; key
// operations go to the cluster's transit/ mount.
func NewVaultWriter(dir string, o *Org, seed uint64) Writer {
	k := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("vaultwatch simulated audit device "), seed))
	return &vaultWriter{
		dir:      dir,
		org:      o,
		seed:     seed,
		rng:      wrRand(seed, "writer/vault"),
		key:      k[:],
		versions: map[string]int{},
		current:  map[string]int{},
	}
}

// vaultAuditLog is where the writer puts the log, under its folder.
func vaultAuditLog(dir string) string {
	return filepath.Join(dir, "vault", "audit.log")
}

// hmac returns the value as the audit device writes it.
func (w *vaultWriter) hmac(s string) string {
	m := hmac.New(sha256.New, w.key)
	m.Write([]byte(s))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// Write appends the request and response entries of a.
func (w *vaultWriter) Write(a *Access) error {
	if a.Vault == nil || a.Vault.Provider != HashiVault {
		return nil
	}
	c, ok := w.call(a)
	if !ok {
		w.skipped++
		return nil
	}
	if w.f == nil {
		p := vaultAuditLog(w.dir)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("vault writer: %w", err)
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("vault writer: %w", err)
		}
		w.f, w.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	req, resp := w.entries(a, c)
	w.w.Write(req)
	w.w.WriteByte('\n')
	w.w.Write(resp)
	if err := w.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("vault writer: %w", err)
	}
	return nil
}

// Close flushes and closes the log.
func (w *vaultWriter) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err != nil {
		return fmt.Errorf("vault writer: %w", err)
	}
	return nil
}

// vaultMount is a mount as entries name it.
type vaultMount struct {
	point, typ, class, running string
}

func (w *vaultWriter) accessor(m vaultMount) string {
	prefix := m.typ
	switch m.class {
	case "auth":
		prefix = "auth_" + m.typ
	}
	if m.typ == "system" {
		prefix = "system"
	}
	return prefix + "_" + fmt.Sprintf("%08x", uint32(wrHash(strconv.FormatUint(w.seed, 10), "mount", m.point)))
}

// vaultCall is one Vault request.
type vaultCall struct {
	op, path string
	mount    vaultMount
	reqData  wjObj
	respData wjObj // response data on success (nil: no response body)
	// readLike calls answer a missing object with a response without
	// data; the others with "unsupported path".
	readLike bool
	login    string // auth method of a login
	noAuth   bool   // unauthenticated endpoint
}

// call maps a neutral access onto a Vault request.
func (w *vaultWriter) call(a *Access) (vaultCall, bool) {
	v := a.Vault
	kv := vaultMount{point: strings.TrimSuffix(v.Name, "/") + "/", typ: "kv", class: "secret", running: vaultKVVersion}
	transit := vaultMount{point: vaultTransit, typ: "transit", class: "secret", running: vaultKVVersion}
	sys := vaultMount{point: "sys/", typ: "system", class: "secret", running: vaultCoreVersion}
	obj := a.Object
	m := kv.point
	ok200 := a.Status == 0 || a.Status < 300
	var c vaultCall
	switch a.Op {
	case OpSecretGet:
		n := w.version(m, obj, a.Version, false)
		c = vaultCall{op: "read", path: m + "data/" + obj, mount: kv, readLike: true,
			respData: wjObj{
				{"data", w.secretData(m, obj, n)},
				{"metadata", w.kvMetadata(a, n)},
			}}
	case OpSecretList:
		keys := make([]any, 0, len(v.Secrets))
		for _, s := range v.Secrets {
			keys = append(keys, w.hmac(s))
		}
		c = vaultCall{op: "list", path: m + "metadata/", mount: kv, readLike: true,
			respData: wjObj{{"keys", keys}}}
	case OpSecretVersions:
		n := w.version(m, obj, a.Version, false)
		created := w.hmac(a.Time.Add(-time.Duration(n) * 24 * time.Hour).UTC().Format(time.RFC3339Nano))
		vers := wjObj{}
		for i := 1; i <= n; i++ {
			vers = append(vers, wjKV{strconv.Itoa(i), wjObj{
				{"created_time", created}, {"deletion_time", w.hmac("")}, {"destroyed", false}}})
		}
		slices.SortFunc(vers, func(x, y wjKV) int { return strings.Compare(x.k, y.k) })
		c = vaultCall{op: "read", path: m + "metadata/" + obj, mount: kv, readLike: true,
			respData: wjObj{
				{"cas_required", false},
				{"created_time", created},
				{"current_version", n},
				{"custom_metadata", nil},
				{"delete_version_after", w.hmac("0s")},
				{"max_versions", 0},
				{"oldest_version", 0},
				{"updated_time", w.hmac(a.Time.UTC().Format(time.RFC3339Nano))},
				{"versions", vers},
			}}
	case OpSecretSet:
		n := w.version(m, obj, a.Version, ok200)
		op := "update"
		if n == 1 {
			op = "create"
		}
		c = vaultCall{op: op, path: m + "data/" + obj, mount: kv,
			reqData: wjObj{{"data", w.secretData(m, obj, n)}, {"options", wjObj{}}},
			respData: wjObj{
				{"created_time", w.hmac(a.Time.UTC().Format(time.RFC3339Nano))},
				{"custom_metadata", nil},
				{"deletion_time", w.hmac("")},
				{"destroyed", false},
				{"version", n},
			}}
	case OpSecretDelete:
		c = vaultCall{op: "delete", path: m + "data/" + obj, mount: kv}
	case OpSecretPurge:
		c = vaultCall{op: "delete", path: m + "metadata/" + obj, mount: kv}
	case OpSecretRecover:
		n := w.version(m, obj, a.Version, false)
		c = vaultCall{op: "update", path: m + "undelete/" + obj, mount: kv,
			reqData: wjObj{{"versions", []any{n}}}}
	case OpKeyGet, OpKeyCreate:
		op, path := "read", vaultTransit+"keys/"+obj
		var req wjObj
		if a.Op == OpKeyCreate {
			op, req = "update", wjObj{{"type", w.hmac("aes256-gcm96")}}
		}
		c = vaultCall{op: op, path: path, mount: transit, reqData: req,
			respData: wjObj{
				{"allow_plaintext_backup", false},
				{"auto_rotate_period", 0},
				{"deletion_allowed", false},
				{"derived", false},
				{"exportable", false},
				{"latest_version", 1},
				{"min_decryption_version", 1},
				{"min_encryption_version", 0},
				{"name", w.hmac(obj)},
				{"supports_decryption", true},
				{"supports_derivation", true},
				{"supports_encryption", true},
				{"supports_signing", false},
				{"type", w.hmac("aes256-gcm96")},
			}}
	case OpKeyList:
		keys := make([]any, 0, len(v.Keys))
		for _, k := range v.Keys {
			keys = append(keys, w.hmac(k))
		}
		c = vaultCall{op: "list", path: vaultTransit + "keys", mount: transit, respData: wjObj{{"keys", keys}}}
	case OpKeyRotate:
		c = vaultCall{op: "update", path: vaultTransit + "keys/" + obj + "/rotate", mount: transit}
	case OpKeyDelete:
		c = vaultCall{op: "delete", path: vaultTransit + "keys/" + obj, mount: transit}
	case OpKeyBackup:
		c = vaultCall{op: "read", path: vaultTransit + "backup/" + obj, mount: transit,
			respData: wjObj{{"backup", w.hmac(w.fake("backup", obj, a.Time))}}}
	case OpKeyEncrypt, OpKeyWrap:
		c = vaultCall{op: "update", path: vaultTransit + "encrypt/" + obj, mount: transit,
			reqData:  wjObj{{"plaintext", w.hmac(w.fake("plaintext", obj, a.Time))}},
			respData: wjObj{{"ciphertext", w.hmac(w.fake("ciphertext", obj, a.Time))}, {"key_version", 1}}}
	case OpKeyDecrypt, OpKeyUnwrap:
		c = vaultCall{op: "update", path: vaultTransit + "decrypt/" + obj, mount: transit,
			reqData:  wjObj{{"ciphertext", w.hmac(w.fake("ciphertext", obj, a.Time))}},
			respData: wjObj{{"plaintext", w.hmac(w.fake("plaintext", obj, a.Time))}}}
	case OpKeySign:
		c = vaultCall{op: "update", path: vaultTransit + "sign/" + obj, mount: transit,
			reqData:  wjObj{{"input", w.hmac(w.fake("input", obj, a.Time))}},
			respData: wjObj{{"key_version", 1}, {"signature", w.hmac(w.fake("signature", obj, a.Time))}}}
	case OpVaultGet:
		c = vaultCall{op: "read", path: "sys/mounts/" + strings.TrimSuffix(m, "/"), mount: sys,
			respData: w.mountInfo(kv)}
	case OpVaultListAll:
		c = vaultCall{op: "read", path: "sys/mounts", mount: sys,
			respData: wjObj{{strings.TrimSuffix(m, "/") + "/", w.mountInfo(kv)}, {"sys/", w.mountInfo(sys)}}}
	case OpPolicyChange:
		name := obj
		if name == "" {
			name = strings.TrimSuffix(m, "/") + "-read"
		}
		c = vaultCall{op: "update", path: "sys/policies/acl/" + name, mount: sys,
			reqData: wjObj{{"policy", w.hmac(`path "` + m + `data/*" { capabilities = ["read", "list"] }`)}}}
	case OpAuditDisable:
		name := obj
		if name == "" {
			name = vaultAuditPath
		}
		c = vaultCall{op: "delete", path: "sys/audit/" + name, mount: sys}
	case OpAuditEnable:
		name := obj
		if name == "" {
			name = vaultAuditPath
		}
		c = vaultCall{op: "update", path: "sys/audit/" + name, mount: sys,
			reqData: wjObj{
				{"description", w.hmac("")},
				{"local", false},
				{"options", wjObj{{"file_path", w.hmac("/var/log/vault/" + name + ".log")}}},
				{"type", w.hmac("file")},
			}}
	case OpGenerateRoot:
		c = vaultCall{op: "update", path: "sys/generate-root/attempt", mount: sys, noAuth: true,
			reqData: wjObj{{"pgp_key", w.hmac("")}},
			respData: wjObj{
				{"complete", false},
				{"encoded_root_token", w.hmac("")},
				{"encoded_token", w.hmac("")},
				{"nonce", w.hmac(wrUUIDLike(w.rng))},
				{"otp", w.hmac("")},
				{"otp_length", 28},
				{"pgp_fingerprint", w.hmac("")},
				{"progress", 0},
				{"required", 3},
				{"started", true},
			}}
	case OpTokenLookup:
		tok := vaultMount{point: "auth/token/", typ: "token", class: "auth", running: vaultCoreVersion}
		c = vaultCall{op: "read", path: "auth/token/lookup-self", mount: tok, respData: w.lookupSelf(a)}
	case OpLogin:
		c = w.loginCall(a)
	default:
		return vaultCall{}, false
	}
	return c, true
}

// loginCall is the login of the access's principal through its auth
// method.
func (w *vaultWriter) loginCall(a *Access) vaultCall {
	p := a.Principal
	method := vaultMethod(p)
	mount := vaultMount{point: "auth/" + method + "/", typ: method, class: "auth", running: vaultCoreVersion}
	c := vaultCall{op: "update", mount: mount, login: method}
	name := ""
	if p != nil {
		name = p.Name
	}
	switch method {
	case "userpass":
		c.path = "auth/userpass/login/" + name
		c.reqData = wjObj{{"password", w.hmac(w.fake("password", name, time.Time{}))}}
	case "kubernetes":
		c.path = "auth/kubernetes/login"
		c.reqData = wjObj{{"jwt", w.hmac(w.fake("jwt", name, a.Time))}, {"role", w.hmac(name)}}
	case "oidc":
		c.op = "read"
		c.path = "auth/oidc/oidc/callback"
		c.reqData = wjObj{{"code", w.hmac(w.fake("code", name, a.Time))}, {"state", w.hmac(w.fake("state", name, a.Time))}}
	default:
		c.path = "auth/approle/login"
		c.reqData = wjObj{{"role_id", w.hmac(w.fake("role_id", name, time.Time{}))}, {"secret_id", w.hmac(w.fake("secret_id", name, time.Time{}))}}
	}
	return c
}

// vaultMethod is the auth method a principal logs in with.
func vaultMethod(p *Principal) string {
	if p == nil {
		return "approle"
	}
	switch p.VaultRole {
	case "approle", "userpass", "kubernetes", "oidc":
		return p.VaultRole
	}
	if p.Kind == KindUser {
		return "userpass"
	}
	return "approle"
}

// fake is a stand-in for a value the device only ever writes HMAC-ed.
func (w *vaultWriter) fake(kind, name string, t time.Time) string {
	return fmt.Sprintf("%s-%016x", kind, wrHash(strconv.FormatUint(w.seed, 10), kind, name, strconv.FormatInt(t.UnixNano(), 10)))
}

// version returns the KV v2 version number of a secret: the access's
// version when it is a number, else a number given to each new version
// string in turn; bump makes a new version (a write).
func (w *vaultWriter) version(mount, obj, ver string, bump bool) int {
	key := mount + "\x00" + obj
	if n, err := strconv.Atoi(ver); err == nil && n > 0 {
		if n > w.current[key] {
			w.current[key] = n
		}
		return n
	}
	if ver != "" {
		vk := key + "\x00" + ver
		if n, ok := w.versions[vk]; ok {
			return n
		}
		n := w.current[key] + 1
		if w.current[key] == 0 && !bump {
			n = 1 + int(wrHash("kv-version", mount, obj)%5)
		}
		w.current[key] = n
		w.versions[vk] = n
		return n
	}
	n := w.current[key]
	switch {
	case n == 0 && bump:
		n = 1
	case n == 0:
		n = 1 + int(wrHash("kv-version", mount, obj)%5)
	case bump:
		n++
	}
	w.current[key] = n
	return n
}

// secretData is a KV secret's data, values HMAC-ed; the field names depend
// on what the secret is.
func (w *vaultWriter) secretData(mount, obj string, version int) wjObj {
	val := func(field string) string {
		return w.hmac(w.fake("value-"+field, mount+obj, time.Unix(int64(version), 0)))
	}
	n := strings.ToLower(obj)
	switch {
	case strings.Contains(n, "db") || strings.Contains(n, "sql") || strings.Contains(n, "postgres") || strings.Contains(n, "mongo"):
		return wjObj{{"password", val("password")}, {"username", val("username")}}
	case strings.Contains(n, "tls") || strings.Contains(n, "cert"):
		return wjObj{{"certificate", val("certificate")}, {"private_key", val("private_key")}}
	case strings.Contains(n, "token") || strings.Contains(n, "api"):
		return wjObj{{"token", val("token")}}
	}
	return wjObj{{"value", val("value")}}
}

func (w *vaultWriter) kvMetadata(a *Access, n int) wjObj {
	created := a.Time.Add(-time.Duration(1+wrHash("kv-created", a.Vault.Name, a.Object)%500) * time.Hour)
	return wjObj{
		{"created_time", w.hmac(created.UTC().Format(time.RFC3339Nano))},
		{"custom_metadata", nil},
		{"deletion_time", w.hmac("")},
		{"destroyed", false},
		{"version", n},
	}
}

func (w *vaultWriter) mountInfo(m vaultMount) wjObj {
	return wjObj{
		{"accessor", w.hmac(w.accessor(m))},
		{"config", wjObj{{"default_lease_ttl", 0}, {"force_no_cache", false}, {"max_lease_ttl", 0}}},
		{"description", w.hmac("")},
		{"external_entropy_access", false},
		{"local", false},
		{"options", wjObj{{"version", w.hmac("2")}}},
		{"plugin_version", w.hmac("")},
		{"running_plugin_version", w.hmac(m.running)},
		{"running_sha256", w.hmac("")},
		{"seal_wrap", false},
		{"type", w.hmac(m.typ)},
		{"uuid", w.hmac(wrUUIDLike(rand.New(rand.NewPCG(w.seed, wrHash("mount-uuid", m.point)))))},
	}
}

// vaultToken is what the device knows of the token of a call.
type vaultToken struct {
	token, accessor, display, entity string
	metadata                         wjObj
	policies                         []string
	ttl                              int
	issued                           time.Time
	root                             bool
}

// token returns the token an access's principal calls with.
func (w *vaultWriter) token(a *Access) vaultToken {
	p := a.Principal
	s := strconv.FormatUint(w.seed, 10)
	if p == nil && !a.Root {
		// No principal: a token Vault cannot resolve.
		return vaultToken{token: "hvs." + fmt.Sprintf("%024x", wrHash(s, "unknown-token")), policies: []string{"default"}}
	}
	if a.Root {
		t := vaultToken{
			token:    "hvs." + fmt.Sprintf("%024x", wrHash(s, "root-token")),
			display:  "root",
			policies: []string{"root"},
			root:     true,
			issued:   w.org.Start.Add(-time.Duration(24+wrHash(s, "root-issued")%200) * time.Hour),
		}
		t.accessor = fmt.Sprintf("%024x", wrHash(s, "root-accessor"))
		return t
	}
	t := vaultToken{
		token:    "hvs." + fmt.Sprintf("%024x", wrHash(s, "token", p.Name)),
		accessor: p.Accessor,
		entity:   p.VaultEntity,
		issued:   w.org.Start.Add(-time.Duration(1+wrHash(s, "issued", p.Name)%72) * time.Hour),
	}
	if t.accessor == "" {
		t.accessor = fmt.Sprintf("%024x", wrHash(s, "accessor", p.Name))
	}
	if t.entity == "" {
		r := rand.New(rand.NewPCG(w.seed, wrHash("entity", p.Name)))
		t.entity = wrUUIDLike(r)
	}
	switch vaultMethod(p) {
	case "userpass":
		t.display = "userpass-" + p.Name
		t.metadata = wjObj{{"username", p.Name}}
		t.ttl = 2764800
	case "oidc":
		who := p.UPN
		if who == "" {
			who = p.Name
		}
		t.display = "oidc-" + who
		t.metadata = wjObj{{"role", "default"}}
		t.ttl = 28800
	case "kubernetes":
		ns := p.Team
		if ns == "" {
			ns = "default"
		}
		t.display = "kubernetes-" + ns + "-" + p.Name
		t.metadata = wjObj{
			{"role", p.Name},
			{"service_account_name", p.Name},
			{"service_account_namespace", ns},
			{"service_account_secret_name", ""},
			{"service_account_uid", wrUUIDLike(rand.New(rand.NewPCG(w.seed, wrHash("sa-uid", p.Name))))},
		}
		t.ttl = 3600
	default:
		t.display = "approle"
		t.metadata = wjObj{{"role_name", p.Name}}
		t.ttl = 3600
	}
	pol := map[string]bool{"default": true}
	for _, x := range p.Policies {
		pol[x] = true
	}
	for x := range pol {
		t.policies = append(t.policies, x)
	}
	slices.Sort(t.policies)
	return t
}

// clientID is the client id Vault computes for a token: the entity, or
// the token's policies and namespace when it has none.
func (t vaultToken) clientID() string {
	src := t.entity
	if src == "" {
		src = strings.Join(t.policies, ",") + "root"
	}
	h := sha256.Sum256([]byte(src))
	return base64.StdEncoding.EncodeToString(h[:])
}

// auth is the auth block of a call made with t, or of the token a login
// returns.
func (w *vaultWriter) auth(t vaultToken, policyResults wjObj, login bool) wjObj {
	a := wjObj{
		{"accessor", w.hmac(t.accessor)},
		{"client_token", w.hmac(t.token)},
		{"display_name", t.display},
	}
	if t.entity != "" {
		a = append(a, wjKV{"entity_id", t.entity})
	}
	if len(t.metadata) > 0 {
		a = append(a, wjKV{"metadata", t.metadata})
	}
	a = append(a, wjKV{"policies", t.policies})
	if policyResults != nil {
		a = append(a, wjKV{"policy_results", policyResults})
	}
	// Vault writes token_policies before token_issue_time; a login's
	// response names no issue time.
	a = append(a, wjKV{"token_policies", t.policies})
	if !login {
		a = append(a, wjKV{"token_issue_time", t.issued.UTC().Format(time.RFC3339)})
	}
	if t.ttl > 0 {
		a = append(a, wjKV{"token_ttl", t.ttl})
	}
	return append(a, wjKV{"token_type", "service"})
}

func (w *vaultWriter) lookupSelf(a *Access) wjObj {
	t := w.token(a)
	pols := make([]any, len(t.policies))
	for i, p := range t.policies {
		pols[i] = w.hmac(p)
	}
	path := "auth/" + vaultMethod(a.Principal) + "/login"
	if t.root {
		path = "auth/token/root"
	}
	return wjObj{
		{"accessor", w.hmac(t.accessor)},
		{"creation_time", t.issued.Unix()},
		{"creation_ttl", t.ttl},
		{"display_name", w.hmac(t.display)},
		{"entity_id", w.hmac(t.entity)},
		{"explicit_max_ttl", 0},
		{"id", w.hmac(t.token)},
		{"meta", nil},
		{"num_uses", 0},
		{"orphan", true},
		{"path", w.hmac(path)},
		{"policies", pols},
		{"renewable", !t.root},
		{"ttl", t.ttl},
		{"type", w.hmac("service")},
	}
}

// entries returns the request and the response entry of a call.
func (w *vaultWriter) entries(a *Access, c vaultCall) (req, resp []byte) {
	status := a.Status
	if status == 0 {
		status = 200
	}
	if a.Principal == nil && !a.Root && c.login == "" && !c.noAuth {
		status = 401
	}
	t := w.token(a)
	reqID := wrUUIDLike(w.rng)
	port := 32768 + w.rng.IntN(28000)
	took := time.Duration(200+w.rng.IntN(30000)) * time.Microsecond
	ua := accessUserAgent(a, "Go-http-client/1.1")
	mountAcc := w.accessor(c.mount)

	// What the request entry and the response entry say of the token.
	var reqAuth, respAuth wjObj
	var reqErr, respErr string
	withToken := true
	var loginAuth wjObj
	noResp := false
	var respData wjObj
	respHasBody := false

	unresolved := wjObj{{"policy_results", wjObj{{"allowed", true}}}, {"token_type", "default"}}
	grant := t.policies[0]
	for _, p := range t.policies {
		if p != "default" {
			grant = p
			break
		}
	}
	granted := wjObj{{"allowed", true}, {"granting_policies", []any{wjObj{
		{"name", grant}, {"namespace_id", "root"}, {"type", "acl"}}}}}
	if t.root {
		granted = wjObj{{"allowed", true}, {"granting_policies", []any{wjObj{
			{"name", "root"}, {"namespace_id", "root"}, {"type", "acl"}}}}}
	}

	switch {
	case c.login != "":
		withToken = false
		reqAuth = unresolved
		switch status {
		case 200:
			loginAuth = w.auth(t, nil, true)
			respAuth = loginAuth
			respHasBody = true
		case 429:
			respAuth = unresolved
			respErr = "1 error occurred:\n\t* request path \"" + c.path + "\": rate limit quota exceeded\n\n"
			noResp = true
		case 401, 403, 404:
			switch c.login {
			case "userpass":
				respErr = "invalid credentials"
			case "approle":
				respErr = "invalid role or secret ID"
			default:
				respErr = "permission denied"
			}
			respData = wjObj{{"error", w.hmac(respErr)}}
			respHasBody = true
		default:
			respAuth = unresolved
			respErr = vaultErrInternal
			noResp = true
		}
	case c.noAuth:
		withToken = false
		reqAuth, respAuth = unresolved, unresolved
		switch status {
		case 200:
			respData, respHasBody = c.respData, c.respData != nil
		case 429:
			respErr = "1 error occurred:\n\t* request path \"" + c.path + "\": rate limit quota exceeded\n\n"
			noResp = true
		case 401, 403, 404:
			respErr = "1 error occurred:\n\t* root generation already in progress\n\n"
			respData, respHasBody = wjObj{{"error", w.hmac(respErr)}}, true
		default:
			respErr = vaultErrInternal
			noResp = true
		}
	case status == 401:
		withToken = false
		bad := wjObj{{"client_token", w.hmac(w.fake("expired-token", t.token, a.Time.Truncate(24*time.Hour)))}}
		reqAuth = append(bad, unresolved...)
		respAuth = reqAuth
		respErr = vaultErrInvalidTok
		noResp = true
	default:
		reqAuth = w.auth(t, granted, false)
		respAuth = reqAuth
		switch status {
		case 200:
			respData, respHasBody = c.respData, c.respData != nil
		case 403:
			denied := w.auth(t, wjObj{{"allowed", false}}, false)
			reqAuth, respAuth = denied, denied
			reqErr, respErr = vaultErrDenied, vaultErrDenied
			respData, respHasBody = wjObj{{"error", w.hmac(vaultErrDenied)}}, true
			mountAcc = ""
		case 404:
			if c.readLike {
				respHasBody = true // no data: nothing found
			} else {
				respErr = vaultErrUnsupported
				respData, respHasBody = wjObj{{"error", w.hmac(vaultErrUnsupported)}}, true
			}
		case 429:
			respErr = "1 error occurred:\n\t* request path \"" + c.path + "\": rate limit quota exceeded\n\n"
			noResp = true
		default:
			respErr = vaultErrInternal
			noResp = true
		}
	}

	request := func(withAccessor bool) wjObj {
		r := wjObj{}
		if withToken {
			r = append(r,
				wjKV{"client_id", t.clientID()},
				wjKV{"client_token", w.hmac(t.token)},
				wjKV{"client_token_accessor", w.hmac(t.accessor)})
		} else if status == 401 && c.login == "" && !c.noAuth {
			r = append(r, wjKV{"client_token", reqAuth[0].v})
		}
		if c.reqData != nil {
			r = append(r, wjKV{"data", c.reqData})
		}
		r = append(r,
			wjKV{"headers", wjObj{{"user-agent", []string{ua}}}},
			wjKV{"id", reqID})
		if withAccessor && mountAcc != "" {
			r = append(r, wjKV{"mount_accessor", mountAcc})
		}
		return append(r,
			wjKV{"mount_class", c.mount.class},
			wjKV{"mount_point", c.mount.point},
			wjKV{"mount_running_version", c.mount.running},
			wjKV{"mount_type", c.mount.typ},
			wjKV{"namespace", wjObj{{"id", "root"}}},
			wjKV{"operation", c.op},
			wjKV{"path", c.path},
			wjKV{"remote_address", a.IP.String()},
			wjKV{"remote_port", port},
		)
	}

	writes := c.op != "read" && c.op != "list"
	reqEntry := wjObj{}
	if reqAuth != nil {
		reqEntry = append(reqEntry, wjKV{"auth", reqAuth})
	}
	if reqErr != "" {
		reqEntry = append(reqEntry, wjKV{"error", reqErr})
	}
	reqEntry = append(reqEntry,
		wjKV{"request", request(writes)},
		wjKV{"time", a.Time.UTC().Format(time.RFC3339Nano)},
		wjKV{"type", "request"})

	respEntry := wjObj{}
	if respAuth != nil {
		respEntry = append(respEntry, wjKV{"auth", respAuth})
	}
	if respErr != "" {
		respEntry = append(respEntry, wjKV{"error", respErr})
	}
	respEntry = append(respEntry, wjKV{"request", request(true)})
	if !noResp && respHasBody {
		r := wjObj{}
		if loginAuth != nil {
			r = append(r, wjKV{"auth", loginAuth})
		}
		if respData != nil {
			r = append(r, wjKV{"data", respData})
		}
		if mountAcc != "" {
			r = append(r, wjKV{"mount_accessor", mountAcc})
		}
		r = append(r,
			wjKV{"mount_class", c.mount.class},
			wjKV{"mount_point", c.mount.point},
			wjKV{"mount_running_plugin_version", c.mount.running},
			wjKV{"mount_type", c.mount.typ})
		respEntry = append(respEntry, wjKV{"response", r})
	}
	respEntry = append(respEntry,
		wjKV{"time", a.Time.Add(took).UTC().Format(time.RFC3339Nano)},
		wjKV{"type", "response"})
	return wjAppend(nil, reqEntry), wjAppend(nil, respEntry)
}
