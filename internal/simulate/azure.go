package simulate

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// azureBatchEvery is how often (one in azureBatchEvery (vault, hour) pairs)
// an hour's file is written as Event Hubs batches {"records":[...]}
// instead of JSON Lines.
const azureBatchEvery = 10

// azureWriter writes Azure Key Vault AuditEvent records in the storage
// account layout of diagnostic settings.
type azureWriter struct {
	dir   string
	org   *Org
	seed  uint64
	rng   *rand.Rand
	files map[*Vault]*azureFile
	// skipped counts accesses whose operation Key Vault has no record for.
	skipped int
}

// azureFile is the open PT1H.json of one vault's current hour.
type azureFile struct {
	hour  time.Time
	path  string
	f     *os.File
	w     *bufio.Writer
	batch bool     // Event Hubs batches instead of JSON Lines
	max   int      // records per batch
	recs  [][]byte // the current batch
}

// NewAzureWriter returns a writer of Azure Key Vault AuditEvent records for
// the accesses to Azure vaults, laid out under dir/azure as a storage
// account's insights-logs-auditevent container holds them
// (resourceId=/SUBSCRIPTIONS/.../y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json).
// About one (vault, hour) in ten is written as Event Hubs batches
// ({"records":[...]}) instead of JSON Lines.
func NewAzureWriter(dir string, o *Org, seed uint64) Writer {
	return &azureWriter{
		dir:   dir,
		org:   o,
		seed:  seed,
		rng:   wrRand(seed, "writer/azure"),
		files: map[*Vault]*azureFile{},
	}
}

// Write appends the record of a to its vault's hourly blob.
func (w *azureWriter) Write(a *Access) error {
	if a.Vault == nil || a.Vault.Provider != Azure {
		return nil
	}
	rec, ok := w.record(a)
	if !ok {
		w.skipped++
		return nil
	}
	hour := a.Time.UTC().Truncate(time.Hour)
	af := w.files[a.Vault]
	if af != nil && !af.hour.Equal(hour) {
		if err := af.close(); err != nil {
			return err
		}
		af = nil
	}
	if af == nil {
		var err error
		if af, err = w.open(a.Vault, hour); err != nil {
			return err
		}
		w.files[a.Vault] = af
	}
	return af.add(rec)
}

// Close flushes and closes every open blob.
func (w *azureWriter) Close() error {
	var first error
	for _, v := range w.org.Vaults {
		if af := w.files[v]; af != nil {
			if err := af.close(); err != nil && first == nil {
				first = err
			}
			delete(w.files, v)
		}
	}
	// Vaults not in the org (should not happen), in a stable order.
	var rest []*Vault
	for v := range w.files {
		rest = append(rest, v)
	}
	wrSortVaults(rest)
	for _, v := range rest {
		if err := w.files[v].close(); err != nil && first == nil {
			first = err
		}
		delete(w.files, v)
	}
	return first
}

func wrSortVaults(vs []*Vault) {
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && vs[j].Name < vs[j-1].Name; j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

// azureResourceID is the vault's resource id as Key Vault writes it in
// resourceId: upper-case.
func azureResourceID(v *Vault) string {
	return strings.ToUpper("/SUBSCRIPTIONS/" + v.Subscription + "/RESOURCEGROUPS/" + v.ResourceGroup +
		"/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/" + v.Name)
}

// azureBlobPath is the path of a vault's blob for an hour, under dir.
func azureBlobPath(dir string, v *Vault, hour time.Time) string {
	h := hour.UTC()
	rel := "resourceId=" + azureResourceID(v) + fmt.Sprintf("/y=%04d/m=%02d/d=%02d/h=%02d/m=00/PT1H.json",
		h.Year(), int(h.Month()), h.Day(), h.Hour())
	return filepath.Join(dir, "azure", filepath.FromSlash(rel))
}

func (w *azureWriter) open(v *Vault, hour time.Time) (*azureFile, error) {
	p := azureBlobPath(w.dir, v, hour)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("azure writer: %w", err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("azure writer: %w", err)
	}
	batch, max := azureBatched(w.seed, v, hour)
	return &azureFile{
		hour:  hour,
		path:  p,
		f:     f,
		w:     bufio.NewWriterSize(f, 64<<10),
		batch: batch,
		max:   max,
	}, nil
}

// azureBatched reports whether a vault's hour is written as Event Hubs
// batches, and how many records a batch holds (40 to 100).
func azureBatched(seed uint64, v *Vault, hour time.Time) (bool, int) {
	h := wrHash(strconv.FormatUint(seed, 10), "azure-batch", v.Name, strconv.FormatInt(hour.Unix(), 10))
	return h%azureBatchEvery == 0, 40 + int(h>>8%61)
}

func (af *azureFile) add(rec []byte) error {
	if !af.batch {
		af.w.Write(rec)
		return af.w.WriteByte('\n')
	}
	af.recs = append(af.recs, rec)
	if len(af.recs) >= af.max {
		return af.flushBatch()
	}
	return nil
}

// flushBatch writes the pending records as one Event Hubs message body.
func (af *azureFile) flushBatch() error {
	if len(af.recs) == 0 {
		return nil
	}
	af.w.WriteString(`{"records":[`)
	for i, r := range af.recs {
		if i > 0 {
			af.w.WriteByte(',')
		}
		af.w.Write(r)
	}
	af.recs = af.recs[:0]
	_, err := af.w.WriteString("]}\n")
	return err
}

func (af *azureFile) close() error {
	err := af.flushBatch()
	if ferr := af.w.Flush(); err == nil {
		err = ferr
	}
	if cerr := af.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("azure writer: %s: %w", af.path, err)
	}
	return nil
}

// azureOp describes how Key Vault logs a neutral operation.
type azureOp struct {
	name string // operationName
	coll string // secrets, keys, certificates; "" for the vault (control plane)
	// path after the object name ("/backup", "/create"), or the whole
	// path for calls naming no object ("" with list set).
	suffix  string
	list    bool   // a collection call: no id
	deleted bool   // a deleted* collection
	withVer bool   // the id carries the version
	pathVer bool   // so does the request path
	perm    string // access policy permission ("get", "unwrapKey")
	action  string // RBAC data action
	created bool   // answers 202 Accepted
	control bool   // control plane (management.azure.com)
}

var azureOps = map[Op]azureOp{
	OpSecretGet:      {name: "SecretGet", pathVer: true, coll: "secrets", withVer: true, perm: "get", action: "secrets/getSecret/action"},
	OpSecretList:     {name: "SecretList", coll: "secrets", list: true, perm: "list", action: "secrets/readMetadata/action"},
	OpSecretVersions: {name: "SecretListVersions", coll: "secrets", suffix: "/versions", perm: "list", action: "secrets/readMetadata/action"},
	OpSecretSet:      {name: "SecretSet", coll: "secrets", withVer: true, perm: "set", action: "secrets/setSecret/action"},
	OpSecretDelete:   {name: "SecretDelete", coll: "secrets", perm: "delete", action: "secrets/delete"},
	OpSecretPurge:    {name: "SecretPurge", coll: "secrets", deleted: true, perm: "purge", action: "secrets/purge/action"},
	OpSecretBackup:   {name: "SecretBackup", coll: "secrets", suffix: "/backup", perm: "backup", action: "secrets/backup/action"},
	OpSecretRestore:  {name: "SecretRestore", coll: "secrets", perm: "restore", action: "secrets/restore/action"},
	OpSecretRecover:  {name: "SecretRecover", coll: "secrets", deleted: true, suffix: "/recover", perm: "recover", action: "secrets/recover/action"},
	OpKeyGet:         {name: "KeyGet", pathVer: true, coll: "keys", withVer: true, perm: "get", action: "keys/read"},
	OpKeyList:        {name: "KeyList", coll: "keys", list: true, perm: "list", action: "keys/read"},
	OpKeyCreate:      {name: "KeyCreate", coll: "keys", suffix: "/create", withVer: true, perm: "create", action: "keys/create/action"},
	OpKeyRotate:      {name: "KeyRotate", coll: "keys", suffix: "/rotate", withVer: true, perm: "rotate", action: "keys/rotate/action"},
	OpKeyDelete:      {name: "KeyDelete", coll: "keys", perm: "delete", action: "keys/delete"},
	OpKeyBackup:      {name: "KeyBackup", coll: "keys", suffix: "/backup", perm: "backup", action: "keys/backup/action"},
	OpKeyDecrypt:     {name: "KeyDecrypt", pathVer: true, coll: "keys", suffix: "/decrypt", withVer: true, perm: "decrypt", action: "keys/decrypt/action"},
	OpKeyEncrypt:     {name: "KeyEncrypt", pathVer: true, coll: "keys", suffix: "/encrypt", withVer: true, perm: "encrypt", action: "keys/encrypt/action"},
	OpKeyUnwrap:      {name: "KeyUnwrapKey", pathVer: true, coll: "keys", suffix: "/unwrapkey", withVer: true, perm: "unwrapKey", action: "keys/unwrap/action"},
	OpKeyWrap:        {name: "KeyWrapKey", pathVer: true, coll: "keys", suffix: "/wrapkey", withVer: true, perm: "wrapKey", action: "keys/wrap/action"},
	OpKeySign:        {name: "KeySign", pathVer: true, coll: "keys", suffix: "/sign", withVer: true, perm: "sign", action: "keys/sign/action"},
	OpCertGet:        {name: "CertificateGet", pathVer: true, coll: "certificates", withVer: true, perm: "get", action: "certificates/read"},
	OpCertList:       {name: "CertificateList", coll: "certificates", list: true, perm: "list", action: "certificates/read"},
	OpCertCreate:     {name: "CertificateCreate", coll: "certificates", suffix: "/create", created: true, perm: "create", action: "certificates/create/action"},
	OpCertImport:     {name: "CertificateImport", coll: "certificates", suffix: "/import", withVer: true, perm: "import", action: "certificates/import/action"},
	OpVaultGet:       {name: "VaultGet", control: true, action: "read"},
	OpPolicyChange:   {name: "VaultPut", control: true, action: "write"},
	OpNetworkChange:  {name: "VaultPatch", control: true, action: "write"},
}

// azureSignature is resultSignature for a status, as Key Vault writes it
// (the HTTP reason phrase).
func azureSignature(status int) string {
	switch status {
	case 200:
		return "OK"
	case 202:
		return "Accepted"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 409:
		return "Conflict"
	case 429:
		return "Too Many Requests"
	}
	if status >= 500 {
		return "Internal Server Error"
	}
	return strconv.Itoa(status)
}

const (
	azureClaimOIDLong  = "http://schemas.microsoft.com/identity/claims/objectidentifier"
	azureClaimTIDLong  = "http://schemas.microsoft.com/identity/claims/tenantid"
	azureClaimUPNLong  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
	azureClaimNameLong = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
)

// azureTenant is the tenant of a principal.
func (w *azureWriter) azureTenant(p *Principal) string {
	if p.TenantID != "" {
		return p.TenantID
	}
	return w.org.TenantID
}

// claims returns identity.claim: short names on the data plane, long URI
// names on the control plane.
func (w *azureWriter) claims(a *Access, control bool) wjObj {
	p := a.Principal
	tid := w.azureTenant(p)
	if control {
		c := wjObj{{azureClaimOIDLong, p.ObjectID}}
		if p.Kind == KindUser {
			upn := p.UPN
			c = append(c, wjKV{azureClaimUPNLong, upn}, wjKV{azureClaimNameLong, upn})
		}
		c = append(c, wjKV{"appid", p.AppID})
		if p.Kind == KindManagedIdentity && p.MIResource != "" {
			c = append(c, wjKV{"xms_mirid", p.MIResource})
		}
		return append(c, wjKV{azureClaimTIDLong, tid})
	}
	switch p.Kind {
	case KindUser:
		return wjObj{
			{"oid", p.ObjectID},
			{"appid", p.AppID},
			{"scp", "user_impersonation"},
			{"appidacr", "0"},
			{"xms_az_nwperimid", []any{}},
			{"upn", p.UPN},
			{"idtyp", "user"},
			{"ipaddr", a.IP.String()},
			{"unique_name", p.UPN},
			{azureClaimTIDLong, tid},
			{"amr", "pwd"},
		}
	case KindManagedIdentity:
		c := wjObj{
			{"oid", p.ObjectID},
			{"appid", p.AppID},
			{"appidacr", "2"},
			{"idtyp", "app"},
			{"xms_az_nwperimid", []any{}},
		}
		if p.MIResource != "" {
			c = append(c, wjKV{"xms_mirid", p.MIResource})
		}
		return append(c, wjKV{azureClaimTIDLong, tid})
	default:
		return wjObj{
			{"oid", p.ObjectID},
			{"appid", p.AppID},
			{"appidacr", "1"},
			{"idtyp", "app"},
			{"xms_az_nwperimid", []any{}},
			{azureClaimTIDLong, tid},
		}
	}
}

// accessUserAgent returns the client of an access: its own, its
// principal's, else fallback.
func accessUserAgent(a *Access, fallback string) string {
	switch {
	case a.UserAgent != "":
		return a.UserAgent
	case a.Principal != nil && a.Principal.UserAgent != "":
		return a.Principal.UserAgent
	}
	return fallback
}

// record returns the AuditEvent record of a, or false when Key Vault logs
// nothing for its operation.
func (w *azureWriter) record(a *Access) ([]byte, bool) {
	op, ok := azureOps[a.Op]
	if !ok {
		return nil, false
	}
	v := a.Vault
	status := a.Status
	if status == 0 {
		status = 200
	}
	if status == 200 && op.created {
		status = 202
	}
	if op.control && a.Op == OpPolicyChange && w.rng.IntN(3) == 0 {
		op.name = "VaultPatch"
	}
	p := a.Principal
	anonymous := status == 401 || p == nil
	host := "https://" + strings.ToLower(v.Name) + ".vault.azure.net"
	ua := accessUserAgent(a, azureDefaultClient(p, op))
	rbac := wrHash("azure-rbac", v.Name)%3 == 0
	duration := 3 + w.rng.IntN(40)
	if w.rng.IntN(20) == 0 {
		duration += w.rng.IntN(400)
	}
	corr := wrGUID(w.rng)

	var props wjObj
	var apiVersion string
	var desc string
	if op.control {
		apiVersion = "2023-07-01"
		mgmt := "https://management.azure.com/subscriptions/" + v.Subscription + "/resourceGroups/" +
			v.ResourceGroup + "/providers/Microsoft.KeyVault/vaults/" + v.Name + "?api-version=" + apiVersion
		if p != nil && p.Kind == KindProviderService {
			// Azure Resource Graph reads through a regional endpoint.
			mgmt = "https://" + v.Location + ".management.azure.com/subscriptions/" + v.Subscription + "/resourceGroups/" +
				v.ResourceGroup + "/providers/Microsoft.KeyVault/vaults/" + v.Name + "?api-version=" + apiVersion +
				"&MaskCMKEnabledProperties=true"
		}
		props = wjObj{
			{"id", host + "/"},
			{"clientInfo", ua},
			{"requestUri", mgmt},
			{"httpStatusCode", status},
		}
		if status < 300 {
			props = append(props, wjKV{"properties", w.vaultProperties(a, rbac)})
		}
		switch status {
		case 200, 202:
		case 403:
			desc = fmt.Sprintf("The client '%s' with object id '%s' does not have authorization to perform action "+
				"'Microsoft.KeyVault/vaults/%s' over scope '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.KeyVault/vaults/%s' "+
				"or the scope is invalid. If access was recently granted, please refresh your credentials.",
				azureCallerName(p), azurePrincipalOID(p), op.action, v.Subscription, v.ResourceGroup, v.Name)
		default:
			desc = azureErrorText(status, "", "", "")
		}
	} else {
		apiVersion = azureAPIVersion(p)
		var id, path string
		obj := a.Object
		coll := op.coll
		if op.deleted {
			coll = "deleted" + coll
		}
		switch {
		case op.list:
			path = "/" + coll
		case a.Op == OpSecretRestore:
			path = "/secrets/restore"
			id = host + "/secrets/" + obj
		default:
			id = host + "/" + coll + "/" + obj
			path = "/" + coll + "/" + obj
			if a.Version != "" && op.pathVer {
				path += "/" + a.Version
			}
			if ver := azureVersion(a, status); op.withVer && ver != "" {
				id += "/" + ver
			}
			path += op.suffix
		}
		uri := host + path + "?api-version=" + apiVersion
		if op.list {
			uri += "&maxresults=25"
		}
		if id != "" {
			props = append(props, wjKV{"id", id})
		}
		props = append(props,
			wjKV{"clientInfo", ua},
			wjKV{"httpStatusCode", status},
			wjKV{"requestUri", uri},
		)
		if !anonymous {
			allowed := status != 403
			if rbac {
				props = append(props, wjKV{"isRbacAuthorized", allowed})
			} else {
				props = append(props, wjKV{"isAccessPolicyMatch", allowed})
			}
		}
		if status < 300 {
			switch op.coll {
			case "secrets":
				if !op.list && a.Op != OpSecretDelete && a.Op != OpSecretPurge && a.Op != OpSecretVersions {
					props = append(props, wjKV{"secretProperties", wjObj{{"attributes", wjObj{{"enabled", true}}}}})
				}
			case "keys":
				if !op.list && a.Op != OpKeyDelete {
					props = append(props, wjKV{"keyProperties", wjObj{{"type", "RSA"}, {"attributes", wjObj{{"hsmPlatform", "0"}}}}})
				}
			case "certificates":
				if !op.list {
					props = append(props, wjKV{"certificateProperties", wjObj{{"attributes", wjObj{{"enabled", true}}}}})
				}
			}
		}
		props = append(props, wjKV{"tlsVersion", azureTLS(p)})
		switch status {
		case 200, 202:
		case 403:
			if rbac {
				desc = fmt.Sprintf("Caller is not authorized to perform action on resource.\n"+
					"If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\n"+
					"Caller: %s\nAction: 'Microsoft.KeyVault/vaults/%s'\n"+
					"Resource: '/subscriptions/%s/resourcegroups/%s/providers/microsoft.keyvault/vaults/%s%s'\n"+
					"Assignment: (not found)\nDenyAssignmentId: null\nDecisionReason: null \nVault: %s;location=%s",
					w.callerText(p), op.action, strings.ToUpper(v.Subscription), strings.ToLower(v.ResourceGroup),
					strings.ToLower(v.Name), azureRBACObject(op, obj), v.Name, v.Location)
			} else {
				desc = fmt.Sprintf("The user, group or application '%s' does not have %s %s permission on key vault '%s;location=%s'. "+
					"For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
					w.callerText(p), op.coll, op.perm, v.Name, v.Location)
			}
		default:
			desc = azureErrorText(status, op.coll, obj, op.name)
		}
	}

	rec := wjObj{
		{"time", a.Time.UTC().Format("2006-01-02T15:04:05.0000000Z")},
		{"category", "AuditEvent"},
		{"operationName", op.name},
		{"resultType", "Success"},
	}
	if desc != "" {
		rec = append(rec, wjKV{"resultDescription", desc})
	}
	rec = append(rec,
		wjKV{"correlationId", corr},
		wjKV{"callerIpAddress", a.IP.String()},
	)
	if !anonymous {
		rec = append(rec, wjKV{"identity", wjObj{{"claim", w.claims(a, op.control)}}})
	}
	rec = append(rec,
		wjKV{"properties", props},
		wjKV{"resourceId", azureResourceID(v)},
		wjKV{"operationVersion", apiVersion},
		wjKV{"resultSignature", azureSignature(status)},
		wjKV{"durationMs", strconv.Itoa(duration)},
	)
	return wjAppend(nil, rec), true
}

// azureVersion is the object version a record's id carries: the
// access's, else, for a call that succeeded, the object's current version.
func azureVersion(a *Access, status int) string {
	if a.Version != "" || status >= 300 || a.Vault.Versions == nil {
		return a.Version
	}
	return a.Vault.Versions[a.Object]
}

// vaultProperties is the vault's configuration that control-plane records
// carry.
func (w *azureWriter) vaultProperties(a *Access, rbac bool) wjObj {
	var acls any
	if a.Op == OpNetworkChange {
		acls = wjObj{{"bypass", "AzureServices"}, {"defaultAction", []string{"Allow", "Deny"}[w.rng.IntN(2)]}}
	} else if wrHash("azure-acl", a.Vault.Name)%2 == 0 {
		acls = wjObj{{"bypass", "AzureServices"}, {"defaultAction", "Deny"}}
	}
	return wjObj{
		{"sku", wjObj{{"Family", "A"}, {"Name", "Standard"}, {"Capacity", nil}}},
		{"tenantId", w.org.TenantID},
		{"networkAcls", acls},
		{"enabledForDeployment", false},
		{"enabledForDiskEncryption", false},
		{"enabledForTemplateDeployment", false},
		{"enableSoftDelete", true},
		{"softDeleteRetentionInDays", 90},
		{"enableRbacAuthorization", rbac},
		{"enablePurgeProtection", nil},
	}
}

// callerText is how Key Vault names a caller in error descriptions.
func (w *azureWriter) callerText(p *Principal) string {
	if p == nil {
		return ""
	}
	s := "appid=" + p.AppID + ";oid=" + p.ObjectID
	if p.Kind == KindUser {
		s += ";numgroups=" + strconv.Itoa(1+int(wrHash("groups", p.ObjectID)%6))
	}
	return s + ";iss=https://sts.windows.net/" + w.azureTenant(p) + "/"
}

func azurePrincipalOID(p *Principal) string {
	if p == nil {
		return ""
	}
	return p.ObjectID
}

func azureCallerName(p *Principal) string {
	if p == nil {
		return ""
	}
	if p.UPN != "" {
		return p.UPN
	}
	return p.AppID
}

func azureRBACObject(op azureOp, obj string) string {
	if op.list || obj == "" {
		return ""
	}
	return "/" + op.coll + "/" + strings.ToLower(obj)
}

// azureErrorText is resultDescription for statuses other than 403.
func azureErrorText(status int, coll, obj, opName string) string {
	switch status {
	case 401:
		return "Request is missing a Bearer or PoP token."
	case 404:
		if obj == "" {
			return "The specified resource was not found."
		}
		kind := strings.TrimSuffix(coll, "s")
		return fmt.Sprintf("A %s with (name/id) %s was not found in this key vault. If you recently deleted this %s "+
			"you may be able to recover it using the correct recovery command. For help resolving this issue, "+
			"please see https://go.microsoft.com/fwlink/?linkid=2125182", kind, obj, kind)
	case 409:
		return "Conflict"
	case 429:
		return "Rate limit is exceeded. Try again in 5 seconds."
	}
	if status >= 500 {
		return "An unexpected error occurred while processing " + opName + "."
	}
	return ""
}

// azureDefaultClient is the client of a principal that names none: the
// portal for people, an SDK for applications.
func azureDefaultClient(p *Principal, op azureOp) string {
	switch {
	case p != nil && p.Kind == KindUser && op.control:
		return "Mozilla/5.0"
	case p != nil && p.Kind == KindUser:
		return "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
	case p != nil && p.Kind == KindProviderService:
		return "AzureResourceGraph.IngestionWorkerService.global/1.23.1.224"
	}
	switch op.coll {
	case "keys":
		return "azsdk-go-azkeys/1.3.0 (go1.24.2; linux)"
	case "certificates":
		return "azsdk-go-azcertificates/1.3.0 (go1.24.2; linux)"
	case "":
		return "azsdk-go-armkeyvault/1.4.0 (go1.24.2; linux)"
	}
	return "azsdk-go-azsecrets/1.4.0 (go1.24.2; linux)"
}

// azureAPIVersion is the data-plane api-version a principal's SDK speaks.
func azureAPIVersion(p *Principal) string {
	if p == nil {
		return "7.4"
	}
	return [...]string{"7.4", "7.5", "7.3", "7.4"}[wrHash("apiver", p.Name)%4]
}

func azureTLS(p *Principal) string {
	if p != nil && wrHash("tls", p.Name)%4 == 0 {
		return "TLS1_2"
	}
	return "TLS1_3"
}

// --- helpers shared by the writers ---

// wrHash is FNV-1a 64 over the parts, each followed by a zero byte.
func wrHash(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// wrRand returns an independent random stream for one component.
func wrRand(seed uint64, component string) *rand.Rand {
	return rand.New(rand.NewPCG(seed, wrHash(component)))
}

const wrHexDigits = "0123456789abcdef"

// wrHex returns n random lower-case hex digits.
func wrHex(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = wrHexDigits[r.IntN(16)]
	}
	return string(b)
}

// wrGUID returns a random version 4 GUID.
func wrGUID(r *rand.Rand) string {
	s := []byte(wrHex(r, 32))
	s[12] = '4'
	s[16] = "89ab"[r.IntN(4)]
	return string(s[0:8]) + "-" + string(s[8:12]) + "-" + string(s[12:16]) + "-" + string(s[16:20]) + "-" + string(s[20:32])
}

// wrUUIDLike returns a UUID-shaped random id without version bits, as
// Vault writes request ids.
func wrUUIDLike(r *rand.Rand) string {
	s := wrHex(r, 32)
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

const wrAlnumChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// wrAlnum returns n random letters and digits.
func wrAlnum(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = wrAlnumChars[r.IntN(len(wrAlnumChars))]
	}
	return string(b)
}

// wjKV is one member of an ordered JSON object.
type wjKV struct {
	k string
	v any
}

// wjObj is a JSON object whose members keep their order, as the providers
// write them.
type wjObj []wjKV

// wjAppend appends the JSON text of v: a string, integer, bool, nil,
// wjObj, []any or []string. Strings are escaped as the providers escape
// them (no HTML escaping).
func wjAppend(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return wjString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	case wjObj:
		b = append(b, '{')
		for i, kv := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = wjString(b, kv.k)
			b = append(b, ':')
			b = wjAppend(b, kv.v)
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = wjAppend(b, e)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = wjString(b, e)
		}
		return append(b, ']')
	}
	panic(fmt.Sprintf("simulate: no JSON for %T", v))
}

func wjString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c < 0x20:
				b = append(b, `\u00`...)
				b = append(b, wrHexDigits[c>>4], wrHexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
