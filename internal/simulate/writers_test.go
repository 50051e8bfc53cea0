package simulate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// writerStart is the first day of the writers' test traffic.
var writerStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// writerOrg builds, by hand, a small organisation with one vault of each
// provider and one principal of each identity kind.
func writerOrg() *Org {
	az := &Vault{
		Name: "kv-payments-prod", Provider: Azure, Team: "payments",
		Subscription: "3f2b8c1e-5d4a-4e7b-9c1f-2a6d8e0b4c7a", ResourceGroup: "rg-payments-prod", Location: "westeurope",
		Secrets: []string{"db-password", "Stripe-Api-Key"}, Keys: []string{"cmk-payments"}, Certificates: []string{"tls-payments"},
		Versions: map[string]string{"db-password": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
	}
	hv := &Vault{
		Name: "kv-payments", Provider: HashiVault, Team: "payments",
		Secrets: []string{"db/postgres", "api-token"}, Keys: []string{"payments-transit"},
		Versions: map[string]string{"db/postgres": "3"},
	}
	aws := &Vault{
		Name: "aws-payments", Provider: AWS, Team: "payments", Account: "123456789012", Region: "eu-west-1",
		Secrets: []string{"prod/payments/db", "prod/payments/stripe"}, Keys: []string{"payments-cmk"},
		Versions: map[string]string{"prod/payments/db": "a0c7d8e9-1b2c-4d3e-8f40-5a6b7c8d9e0f"},
	}
	tenant := "72f988bf-86f1-41af-91ab-2d7cd011db47"
	user := &Principal{
		Kind: KindUser, Name: "maria.lopez", ObjectID: "a1b2c3d4-0000-4000-8000-000000000001",
		AppID: "04b07795-8ddb-461a-bbee-02f9e1bf7b46", UPN: "maria.lopez@contoso.com", TenantID: tenant,
		VaultEntity: "8d2f6a1c-3b4e-5f60-7182-93a4b5c6d7e8", VaultRole: "userpass", Policies: []string{"payments-admin"},
		Accessor: "zPq8RkL0mN3vB7cX1yT5wA9e", ARN: "arn:aws:iam::123456789012:user/maria.lopez", AccessKeyID: "AKIAEXAMPLEMARIA0001",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
		Admin:     true,
	}
	sso := &Principal{
		Kind: KindUser, Name: "li.wei", ObjectID: "a1b2c3d4-0000-4000-8000-000000000005", AppID: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
		UPN: "li.wei@contoso.com", TenantID: tenant, VaultRole: "oidc", VaultEntity: "1c2d3e4f-5061-7283-94a5-b6c7d8e9f001",
		Policies: []string{"payments-read"}, ARN: "arn:aws:iam::123456789012:role/AWSReservedSSO_PaymentsDev_0123456789abcdef",
	}
	sp := &Principal{
		Kind: KindServicePrincipal, Name: "payments-api", ObjectID: "a1b2c3d4-0000-4000-8000-000000000002",
		AppID: "b2c3d4e5-0000-4000-8000-000000000002", TenantID: tenant, VaultEntity: "2e3f4a5b-6c7d-8e9f-0a1b-2c3d4e5f6a7b",
		VaultRole: "approle", Policies: []string{"payments-read"}, ARN: "arn:aws:iam::123456789012:role/payments-api",
		UserAgent: "azsdk-go-azsecrets/1.3.0 (go1.23.4; linux)",
	}
	mi := &Principal{
		Kind: KindManagedIdentity, Name: "payments-worker", ObjectID: "a1b2c3d4-0000-4000-8000-000000000003",
		AppID: "c3d4e5f6-0000-4000-8000-000000000003", TenantID: tenant, VaultRole: "kubernetes",
		MIResource: "/subscriptions/3f2b8c1e-5d4a-4e7b-9c1f-2a6d8e0b4c7a/resourcegroups/rg-payments-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/payments-worker",
		Policies:   []string{"payments-read"}, ARN: "arn:aws:iam::123456789012:role/payments-worker",
	}
	svc := &Principal{
		Kind: KindProviderService, Name: "Azure Resource Graph", ObjectID: "a1b2c3d4-0000-4000-8000-000000000004",
		AppID: "8b0c1b8a-0000-4000-8000-000000000004", TenantID: tenant,
		UserAgent: "AzureResourceGraph.IngestionWorkerService.global/1.23.1.0",
	}
	return &Org{
		Name: "Contoso", Domain: "contoso.com", TenantID: tenant,
		Start: writerStart, Days: 3, LearningDays: 1, Formats: []Provider{Azure, HashiVault, AWS},
		Vaults: []*Vault{az, hv, aws},
		Users:  []*Principal{user, sso}, Apps: []*Principal{sp, mi}, Services: []*Principal{svc},
	}
}

// writerOps are the operations each writer maps (the others it skips).
var writerOps = map[Provider][]Op{
	Azure: {OpSecretGet, OpSecretList, OpSecretVersions, OpSecretSet, OpSecretDelete, OpSecretPurge, OpSecretBackup,
		OpSecretRestore, OpSecretRecover, OpKeyGet, OpKeyList, OpKeyCreate, OpKeyRotate, OpKeyDelete, OpKeyBackup,
		OpKeyDecrypt, OpKeyEncrypt, OpKeyUnwrap, OpKeyWrap, OpKeySign, OpCertGet, OpCertList, OpCertCreate,
		OpCertImport, OpVaultGet, OpPolicyChange, OpNetworkChange},
	HashiVault: {OpSecretGet, OpSecretList, OpSecretVersions, OpSecretSet, OpSecretDelete, OpSecretPurge,
		OpSecretRecover, OpKeyGet, OpKeyList, OpKeyCreate, OpKeyRotate, OpKeyDelete, OpKeyBackup, OpKeyDecrypt,
		OpKeyEncrypt, OpKeyUnwrap, OpKeyWrap, OpKeySign, OpVaultGet, OpVaultListAll, OpPolicyChange,
		OpAuditDisable, OpAuditEnable, OpGenerateRoot, OpTokenLookup, OpLogin},
	AWS: {OpSecretGet, OpSecretList, OpSecretVersions, OpSecretSet, OpSecretDelete, OpSecretPurge,
		OpSecretRestore, OpSecretRecover, OpPolicyChange, OpVaultGet, OpKeyGet, OpKeyList, OpKeyCreate,
		OpKeyRotate, OpKeyDelete, OpKeyDecrypt, OpKeyUnwrap, OpKeyEncrypt, OpKeyWrap, OpKeySign},
}

var writerStatuses = []int{200, 401, 403, 404, 429}

// writerAccesses returns, for the vault of provider p, an access per
// operation, status and principal (plus root-token calls for Vault), one
// every 97 s and some nanoseconds, so that every access has its own second
// and the traffic spans several hours and days.
func writerAccesses(o *Org, p Provider) []*Access {
	var v *Vault
	for _, x := range o.Vaults {
		if x.Provider == p {
			v = x
		}
	}
	principals := slices.Concat(o.Users, o.Apps, o.Services)
	var out []*Access
	t := writerStart.Add(9 * time.Hour)
	i := 0
	for _, op := range writerOps[p] {
		for _, st := range writerStatuses {
			for pi, pr := range principals {
				a := &Access{
					Time:      t.Add(time.Duration(i)*97*time.Second + time.Duration(i*7919%1000000)*time.Microsecond),
					Vault:     v,
					Principal: pr,
					Op:        op,
					Status:    st,
					IP:        netip.AddrFrom4([4]byte{20, 61, byte(pi), byte(10 + i%200)}),
				}
				switch {
				case strings.HasPrefix(string(op), "key-"):
					a.Object = v.Keys[0]
				case strings.HasPrefix(string(op), "certificate-"):
					a.Object = v.Certificates[0]
				case strings.HasPrefix(string(op), "secret-"):
					a.Object = v.Secrets[i%len(v.Secrets)]
					a.Version = v.Versions[a.Object]
					if p == AWS && i%3 == 0 {
						a.Version = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9" // an older version
					}
				}
				if p == HashiVault && pi == 0 && op != OpLogin && st != 401 {
					a.Root = i%2 == 0
				}
				out = append(out, a)
				i++
			}
		}
	}
	return out
}

// writeAccesses feeds the accesses to a writer in time order.
func writeAccesses(t *testing.T, w Writer, as []*Access) {
	t.Helper()
	for _, a := range as {
		if err := w.Write(a); err != nil {
			t.Fatalf("Write(%s %s %d): %v", a.Op, a.Object, a.Status, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// readWritten reads a folder with the foundation reader.
func readWritten(t *testing.T, dir string) ([]event.Event, *auditlog.Stats) {
	t.Helper()
	var evs []event.Event
	r := auditlog.NewReader(func(e *event.Event) {
		c := *e
		c.Caller.Policies = slices.Clone(e.Caller.Policies)
		evs = append(evs, c)
	})
	if err := r.ReadPaths(context.Background(), []string{dir}); err != nil {
		t.Fatalf("ReadPaths: %v", err)
	}
	if r.Stats.Malformed != 0 {
		t.Fatalf("%d malformed records, first: %v", r.Stats.Malformed, r.Stats.Problems)
	}
	return evs, r.Stats
}

// writerWant is what the normalized event of an access must say.
type writerWant struct {
	vault     string
	class     event.Class
	objKind   event.ObjectKind
	obj, ver  string
	checkObj  bool
	outcome   event.Outcome
	caller    event.IdentityType
	objectID  string
	upn       string
	appID     string
	arn       string
	entity    string
	resource  string
	display   string
	privilege bool
	host      string // a service host instead of an IP
}

func writerOutcome(status int) event.Outcome {
	switch status {
	case 200:
		return event.OutcomeSuccess
	case 401:
		return event.OutcomeUnauthenticated
	case 403:
		return event.OutcomeDenied
	case 404:
		return event.OutcomeNotFound
	case 429:
		return event.OutcomeThrottled
	}
	return event.OutcomeError
}

func checkWritten(t *testing.T, a *Access, e *event.Event, w writerWant) {
	t.Helper()
	where := fmt.Sprintf("%s %s by %s (%s) status %d", a.Op, a.Object, a.Principal.Name, a.Principal.Kind, a.Status)
	if e.Vault.Name != w.vault {
		t.Errorf("%s: vault %q, want %q", where, e.Vault.Name, w.vault)
	}
	if e.Operation.Class != w.class {
		t.Errorf("%s: class %q (%s), want %q", where, e.Operation.Class, e.Operation.Name, w.class)
	}
	if w.checkObj {
		if e.Object.Kind != w.objKind && w.obj != "" {
			t.Errorf("%s: object kind %q, want %q", where, e.Object.Kind, w.objKind)
		}
		verOK := e.Object.Version == w.ver || w.ver == "*" && e.Object.Version != ""
		if e.Object.Name != w.obj || !verOK {
			t.Errorf("%s: object %q version %q, want %q version %q", where, e.Object.Name, e.Object.Version, w.obj, w.ver)
		}
	}
	if e.Result.Outcome != w.outcome {
		t.Errorf("%s: outcome %q (%+v), want %q", where, e.Result.Outcome, e.Result, w.outcome)
	}
	if w.host != "" {
		if e.Host != w.host || e.IP.IsValid() {
			t.Errorf("%s: source %v %q, want host %q", where, e.IP, e.Host, w.host)
		}
	} else if e.IP != a.IP {
		t.Errorf("%s: IP %v, want %v", where, e.IP, a.IP)
	}
	c := e.Caller
	if c.Type != w.caller {
		t.Errorf("%s: caller type %q, want %q (%+v)", where, c.Type, w.caller, c)
	}
	for _, f := range []struct{ name, got, want string }{
		{"object id", c.ObjectID, w.objectID},
		{"upn", c.UPN, w.upn},
		{"app id", c.AppID, w.appID},
		{"arn", c.ARN, w.arn},
		{"entity", c.VaultEntityID, w.entity},
		{"resource id", c.ResourceID, w.resource},
		{"display name", c.DisplayName, w.display},
	} {
		if f.want == "*" {
			if f.got == "" {
				t.Errorf("%s: no caller %s", where, f.name)
			}
			continue
		}
		if f.want != "" && f.got != f.want || f.want == "" && f.got != "" && f.name != "display name" && f.name != "app id" {
			t.Errorf("%s: caller %s %q, want %q", where, f.name, f.got, f.want)
		}
	}
	if c.Privileged != w.privilege {
		t.Errorf("%s: privileged %v, want %v", where, c.Privileged, w.privilege)
	}
}

// accessesByTime indexes accesses by their time at a precision.
func accessesByTime(t *testing.T, as []*Access, prec time.Duration) map[time.Time]*Access {
	t.Helper()
	m := map[time.Time]*Access{}
	for _, a := range as {
		k := a.Time.Truncate(prec)
		if m[k] != nil {
			t.Fatalf("two accesses at %v", k)
		}
		m[k] = a
	}
	return m
}

var azureWriterClasses = map[Op]event.Class{
	OpSecretGet: event.ClassRead, OpSecretList: event.ClassList, OpSecretVersions: event.ClassList,
	OpSecretSet: event.ClassWrite, OpSecretDelete: event.ClassDelete, OpSecretPurge: event.ClassPurge,
	OpSecretBackup: event.ClassBackup, OpSecretRestore: event.ClassRestore, OpSecretRecover: event.ClassRecover,
	OpKeyGet: event.ClassRead, OpKeyList: event.ClassList, OpKeyCreate: event.ClassWrite, OpKeyRotate: event.ClassWrite,
	OpKeyDelete: event.ClassDelete, OpKeyBackup: event.ClassBackup, OpKeyDecrypt: event.ClassCrypto,
	OpKeyEncrypt: event.ClassCrypto, OpKeyUnwrap: event.ClassCrypto, OpKeyWrap: event.ClassCrypto, OpKeySign: event.ClassCrypto,
	OpCertGet: event.ClassRead, OpCertList: event.ClassList, OpCertCreate: event.ClassWrite, OpCertImport: event.ClassWrite,
	OpVaultGet: event.ClassManagement, OpPolicyChange: event.ClassPolicyChange, OpNetworkChange: event.ClassPolicyChange,
}

func TestAzureWriterRoundTrip(t *testing.T) {
	o := writerOrg()
	as := writerAccesses(o, Azure)
	dir := t.TempDir()
	writeAccesses(t, NewAzureWriter(dir, o, 42), as)
	evs, stats := readWritten(t, dir)
	if len(evs) != len(as) {
		t.Fatalf("%d events for %d accesses", len(evs), len(as))
	}
	if n := stats.ByFormat[event.FormatAzureKeyVault]; n != int64(len(as)) {
		t.Errorf("%d Azure records, want %d", n, len(as))
	}
	idx := accessesByTime(t, as, time.Microsecond)
	for i := range evs {
		e := &evs[i]
		a := idx[e.Time.Truncate(time.Microsecond)]
		if a == nil {
			t.Fatalf("event at %v matches no access", e.Time)
		}
		if !e.Time.Equal(a.Time.Truncate(100 * time.Nanosecond)) {
			t.Errorf("time %v, want %v", e.Time, a.Time)
		}
		if want := azureBlobPath(dir, a.Vault, a.Time.Truncate(time.Hour)); e.Source.File != want {
			t.Errorf("%s at %v read from %s, want %s", a.Op, a.Time, e.Source.File, want)
		}
		op := azureOps[a.Op]
		w := writerWant{vault: strings.ToLower(a.Vault.Name), class: azureWriterClasses[a.Op], outcome: writerOutcome(a.Status), checkObj: true}
		if !op.list && !op.control {
			w.objKind = map[string]event.ObjectKind{"secrets": event.KindSecret, "keys": event.KindKey, "certificates": event.KindCertificate}[op.coll]
			w.obj = strings.ToLower(a.Object)
			if op.withVer {
				w.ver = a.Version
				if w.ver == "" && a.Status == 200 {
					w.ver = a.Vault.Versions[a.Object]
				}
			}
		}
		p := a.Principal
		switch {
		case a.Status == 401:
			w.caller = event.IdentityAnonymous
		case p.Kind == KindUser:
			w.caller, w.objectID, w.upn, w.appID = event.IdentityUser, p.ObjectID, p.UPN, p.AppID
		case p.Kind == KindManagedIdentity:
			w.caller, w.objectID, w.appID, w.resource = event.IdentityManagedIdentity, p.ObjectID, p.AppID, strings.ToLower(p.MIResource)
		default: // Key Vault logs provider services as the applications they are.
			w.caller, w.objectID, w.appID = event.IdentityServicePrincipal, p.ObjectID, p.AppID
		}
		checkWritten(t, a, e, w)
		if a.Status != 401 && e.Caller.TenantID != o.TenantID {
			t.Errorf("%s: tenant %q", a.Op, e.Caller.TenantID)
		}
	}
}

// TestAzureWriterRecordShape checks a record against the real ones: the
// keys in Azure's order, the types Azure writes.
func TestAzureWriterRecordShape(t *testing.T) {
	o := writerOrg()
	w := NewAzureWriter(t.TempDir(), o, 1).(*azureWriter)
	a := &Access{Time: writerStart.Add(90*time.Minute + 123456700), Vault: o.Vaults[0], Principal: o.Users[0],
		Op: OpSecretGet, Object: "db-password", Version: "0f1e2d3c4b5a69788796a5b4c3d2e1f0", IP: netip.MustParseAddr("20.61.0.10"), Status: 403}
	rec, ok := w.record(a)
	if !ok {
		t.Fatal("no record")
	}
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(rec))
	dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	wantKeys := []string{"time", "category", "operationName", "resultType", "resultDescription", "correlationId",
		"callerIpAddress", "identity", "properties", "resourceId", "operationVersion", "resultSignature", "durationMs"}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("keys %v, want %v", keys, wantKeys)
	}
	var r struct {
		Time        string `json:"time"`
		ResultType  string `json:"resultType"`
		Description string `json:"resultDescription"`
		Duration    any    `json:"durationMs"`
		Signature   string `json:"resultSignature"`
		ResourceID  string `json:"resourceId"`
		Properties  struct {
			Status any    `json:"httpStatusCode"`
			Match  *bool  `json:"isAccessPolicyMatch"`
			RBAC   *bool  `json:"isRbacAuthorized"`
			URI    string `json:"requestUri"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	if r.Time != "2026-10-01T01:30:00.1234567Z" {
		t.Errorf("time %q", r.Time)
	}
	if _, ok := r.Duration.(string); !ok {
		t.Errorf("durationMs %T, want a string", r.Duration)
	}
	if _, ok := r.Properties.Status.(float64); !ok || r.Properties.Status.(float64) != 403 {
		t.Errorf("httpStatusCode %v, want the number 403", r.Properties.Status)
	}
	if r.ResultType != "Success" || r.Signature != "Forbidden" {
		t.Errorf("resultType %q resultSignature %q", r.ResultType, r.Signature)
	}
	if (r.Properties.Match == nil || *r.Properties.Match) && (r.Properties.RBAC == nil || *r.Properties.RBAC) {
		t.Errorf("403 without isAccessPolicyMatch/isRbacAuthorized false")
	}
	if r.ResourceID != strings.ToUpper(r.ResourceID) {
		t.Errorf("resourceId %q not upper-case", r.ResourceID)
	}
	if !strings.Contains(r.Description, "does not have secrets get permission") && !strings.Contains(r.Description, "Caller is not authorized") {
		t.Errorf("description %q", r.Description)
	}
	if !strings.Contains(r.Properties.URI, "?api-version=") {
		t.Errorf("requestUri %q", r.Properties.URI)
	}
}

// TestAzureWriterEventHubsHours writes a busy hour the writer lays out as
// Event Hubs batches: several {"records":[...]} messages, all readable.
func TestAzureWriterEventHubsHours(t *testing.T) {
	o := writerOrg()
	v := o.Vaults[0]
	const seed = 7
	var hour time.Time
	for h := range 2000 {
		hh := writerStart.Add(time.Duration(h) * time.Hour)
		if ok, _ := azureBatched(seed, v, hh); ok {
			hour = hh
			break
		}
	}
	if hour.IsZero() {
		t.Fatal("no batched hour in 2000")
	}
	var as []*Access
	for i := range 250 {
		as = append(as, &Access{Time: hour.Add(time.Duration(i) * 13 * time.Second), Vault: v, Principal: o.Apps[0],
			Op: OpSecretGet, Object: "db-password", IP: netip.MustParseAddr("20.61.1.1"), Status: 200})
	}
	// And the hour after, in JSON Lines unless batched too.
	dir := t.TempDir()
	writeAccesses(t, NewAzureWriter(dir, o, seed), as)
	b, err := os.ReadFile(azureBlobPath(dir, v, hour))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 3 {
		t.Errorf("%d batches for 250 records, want at least 3", len(lines))
	}
	total := 0
	for _, l := range lines {
		var m struct {
			Records []json.RawMessage `json:"records"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("batch: %v", err)
		}
		if len(m.Records) > 100 {
			t.Errorf("batch of %d records", len(m.Records))
		}
		total += len(m.Records)
	}
	if total != 250 {
		t.Errorf("%d records in the batches, want 250", total)
	}
	evs, _ := readWritten(t, dir)
	if len(evs) != 250 {
		t.Errorf("%d events, want 250", len(evs))
	}
}

// TestAzureWriterBlobLayout checks every file against the storage layout and
// that some hours of the round-trip traffic are batched and others not.
func TestAzureWriterBlobLayout(t *testing.T) {
	o := writerOrg()
	dir := t.TempDir()
	writeAccesses(t, NewAzureWriter(dir, o, 42), writerAccesses(o, Azure))
	re := regexp.MustCompile(`^azure/resourceId=/SUBSCRIPTIONS/[0-9A-F-]{36}/RESOURCEGROUPS/[A-Z0-9-]+/PROVIDERS/MICROSOFT\.KEYVAULT/VAULTS/[A-Z0-9-]+/y=\d{4}/m=\d{2}/d=\d{2}/h=\d{2}/m=00/PT1H\.json$`)
	files := writerFiles(t, dir)
	if len(files) < 10 {
		t.Errorf("%d hourly files, want one per hour of traffic", len(files))
	}
	for _, f := range files {
		if !re.MatchString(f) {
			t.Errorf("file %s is not in the blob layout", f)
		}
	}
	// About one (vault, hour) in ten is written as Event Hubs batches.
	batched := 0
	for h := range 2000 {
		if ok, _ := azureBatched(42, o.Vaults[0], writerStart.Add(time.Duration(h)*time.Hour)); ok {
			batched++
		}
	}
	if batched < 120 || batched > 280 {
		t.Errorf("%d batched hours in 2000, want about 200", batched)
	}
}

func writerFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// vaultWriterWant is the normalized event a Vault access must give.
func vaultWriterWant(a *Access) writerWant {
	p := a.Principal
	w := writerWant{outcome: writerOutcome(a.Status), checkObj: true}
	kv := a.Vault.Name
	method := vaultMethod(p)
	switch a.Op {
	case OpSecretGet, OpSecretVersions:
		w.vault, w.class, w.objKind, w.obj = kv, event.ClassRead, event.KindSecret, a.Object
	case OpSecretList:
		w.vault, w.class = kv, event.ClassList
	case OpSecretSet:
		w.vault, w.class, w.objKind, w.obj = kv, event.ClassWrite, event.KindSecret, a.Object
	case OpSecretDelete:
		w.vault, w.class, w.objKind, w.obj = kv, event.ClassDelete, event.KindSecret, a.Object
	case OpSecretPurge:
		w.vault, w.class, w.objKind, w.obj = kv, event.ClassPurge, event.KindSecret, a.Object
	case OpSecretRecover:
		w.vault, w.class, w.objKind, w.obj = kv, event.ClassRecover, event.KindSecret, a.Object
	case OpKeyGet:
		w.vault, w.class, w.objKind, w.obj = "transit", event.ClassRead, event.KindKey, a.Object
	case OpKeyList:
		w.vault, w.class = "transit", event.ClassList
	case OpKeyCreate, OpKeyRotate:
		w.vault, w.class, w.objKind, w.obj = "transit", event.ClassWrite, event.KindKey, a.Object
	case OpKeyDelete:
		w.vault, w.class, w.objKind, w.obj = "transit", event.ClassDelete, event.KindKey, a.Object
	case OpKeyBackup:
		w.vault, w.class, w.objKind, w.obj = "transit", event.ClassBackup, event.KindKey, a.Object
	case OpKeyDecrypt, OpKeyEncrypt, OpKeyUnwrap, OpKeyWrap, OpKeySign:
		w.vault, w.class, w.objKind, w.obj = "transit", event.ClassCrypto, event.KindKey, a.Object
	case OpVaultGet, OpVaultListAll:
		w.vault, w.class, w.checkObj = "sys", event.ClassManagement, false
	case OpAuditDisable, OpAuditEnable:
		w.vault, w.class, w.checkObj = "sys", event.ClassAuditConfig, false
	case OpPolicyChange:
		w.vault, w.class, w.checkObj = "sys", event.ClassPolicyChange, false
	case OpGenerateRoot:
		w.vault, w.class, w.checkObj = "sys", event.ClassManagement, false
	case OpTokenLookup:
		w.vault, w.class, w.checkObj = "auth/token", event.ClassOther, false
	case OpLogin:
		w.vault, w.class, w.checkObj = "auth/"+method, event.ClassAuth, false
	}
	if a.Status == 200 && (a.Op == OpSecretGet || a.Op == OpSecretSet) {
		w.ver = a.Version
		if w.ver == "" {
			w.ver = "*" // the writer numbers the versions
		}
	}
	root := a.Root
	switch {
	case a.Op == OpGenerateRoot:
		w.caller = event.IdentityAnonymous
		if a.Status == 401 || a.Status == 403 || a.Status == 404 {
			w.outcome = event.OutcomeError
		}
		return w
	case a.Op == OpLogin && a.Status != 200:
		if a.Status != 429 {
			w.outcome = event.OutcomeDenied
		}
		w.caller = event.IdentityAnonymous
		if method == "userpass" { // Vault names the user in the path
			w.caller, w.upn = event.IdentityUser, p.Name
		}
		return w
	case a.Status == 401:
		w.caller = event.IdentityAnonymous
		return w
	case root:
		w.caller, w.display, w.privilege = event.IdentityUser, "root", true
		return w
	}
	w.entity = p.VaultEntity
	if w.entity == "" {
		w.entity = "*" // derived by the writer
	}
	switch method {
	case "userpass":
		w.caller, w.upn, w.display = event.IdentityUser, p.Name, "userpass-"+p.Name
	case "oidc":
		w.caller, w.display = event.IdentityUser, "oidc-"+p.UPN
	case "kubernetes":
		w.caller = event.IdentityServicePrincipal
	default:
		w.caller, w.display = event.IdentityServicePrincipal, "approle"
	}
	return w
}

func TestVaultWriterRoundTrip(t *testing.T) {
	o := writerOrg()
	as := writerAccesses(o, HashiVault)
	dir := t.TempDir()
	writeAccesses(t, NewVaultWriter(dir, o, 42), as)
	evs, stats := readWritten(t, dir)
	if len(evs) != len(as) {
		t.Fatalf("%d events for %d accesses", len(evs), len(as))
	}
	if n := stats.ByFormat[event.FormatVaultAudit]; n != int64(2*len(as)) {
		t.Errorf("%d Vault entries, want %d (a request and a response per call)", n, 2*len(as))
	}
	idx := accessesByTime(t, as, time.Microsecond)
	for i := range evs {
		e := &evs[i]
		a := idx[e.Time.Truncate(time.Microsecond)]
		if a == nil {
			t.Fatalf("event at %v matches no access", e.Time)
		}
		if !e.Time.Equal(a.Time) {
			t.Errorf("time %v, want %v", e.Time, a.Time)
		}
		w := vaultWriterWant(a)
		checkWritten(t, a, e, w)
		if a.Status != 401 && !(a.Op == OpLogin && a.Status != 200) && e.Caller.Type != event.IdentityAnonymous && !strings.HasPrefix(e.Caller.TokenAccessor, "hmac-sha256:") {
			t.Errorf("%s: accessor %q not HMAC-ed", a.Op, e.Caller.TokenAccessor)
		}
		if w.caller != event.IdentityAnonymous && a.Op != OpLogin && !a.Root {
			want := slices.Clone(a.Principal.Policies)
			want = append(want, "default")
			slices.Sort(want)
			if !slices.Equal(e.Caller.Policies, want) {
				t.Errorf("%s: policies %v, want %v", a.Op, e.Caller.Policies, want)
			}
		}
		if e.UserAgent == "" {
			t.Errorf("%s: no user agent", a.Op)
		}
	}
}

// vaultClearKeys are the fields the audit device writes in clear.
var vaultClearKeys = map[string]bool{
	"time": true, "type": true, "error": true,
	"request.id": true, "request.operation": true, "request.path": true, "request.remote_address": true,
	"request.mount_point": true, "request.mount_type": true, "request.mount_class": true,
	"request.mount_accessor": true, "request.mount_running_version": true, "request.namespace.id": true,
	"request.client_id": true, "request.headers.user-agent": true,
	"response.mount_point": true, "response.mount_type": true, "response.mount_class": true,
	"response.mount_accessor": true, "response.mount_running_plugin_version": true,
}

func vaultClearPath(path string) bool {
	if vaultClearKeys[path] {
		return true
	}
	for _, prefix := range []string{"auth.", "response.auth."} {
		rest, ok := strings.CutPrefix(path, prefix)
		if !ok {
			continue
		}
		switch {
		case rest == "display_name", rest == "policies", rest == "token_policies", rest == "entity_id",
			rest == "token_issue_time", rest == "token_type", strings.HasPrefix(rest, "metadata."),
			strings.HasPrefix(rest, "policy_results.granting_policies."):
			return true
		}
	}
	return false
}

var vaultHMACRE = regexp.MustCompile(`^hmac-sha256:[0-9a-f]{64}$`)

// TestVaultWriterHMAC checks that every string value the device hashes is
// an HMAC, so that the log holds no clear value (no secret, token or
// password) outside the fields Vault leaves in clear.
func TestVaultWriterHMAC(t *testing.T) {
	o := writerOrg()
	dir := t.TempDir()
	writeAccesses(t, NewVaultWriter(dir, o, 42), writerAccesses(o, HashiVault))
	f, err := os.Open(vaultAuditLog(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n, hashed := 0, 0
	for sc.Scan() {
		n++
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, y := range x {
					p := k
					if path != "" {
						p = path + "." + k
					}
					walk(p, y)
				}
			case []any:
				for _, y := range x {
					walk(path, y)
				}
			case string:
				if vaultClearPath(path) {
					return
				}
				if !vaultHMACRE.MatchString(x) {
					t.Errorf("line %d: %s = %q in clear", n, path, x)
				}
				hashed++
			}
		}
		walk("", m)
	}
	if n == 0 || hashed == 0 {
		t.Fatalf("%d lines, %d hashed values", n, hashed)
	}
	b, _ := os.ReadFile(vaultAuditLog(dir))
	for _, s := range []string{"hvs.", "value-", "password-", "secret_id-"} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the log holds %q", s)
		}
	}
}

// awsWriterWant is the normalized event of an AWS access.
func awsWriterWant(a *Access) writerWant {
	v := a.Vault
	p := a.Principal
	w := writerWant{vault: v.Account + "/" + v.Region, outcome: writerOutcome(a.Status), checkObj: true}
	classes := map[Op]event.Class{
		OpSecretGet: event.ClassRead, OpSecretList: event.ClassList, OpSecretVersions: event.ClassList,
		OpSecretSet: event.ClassWrite, OpSecretDelete: event.ClassDelete, OpSecretPurge: event.ClassPurge,
		OpSecretRestore: event.ClassRecover, OpSecretRecover: event.ClassRecover, OpPolicyChange: event.ClassPolicyChange,
		OpVaultGet: event.ClassManagement, OpKeyGet: event.ClassManagement, OpKeyList: event.ClassList,
		OpKeyCreate: event.ClassWrite, OpKeyRotate: event.ClassWrite, OpKeyDelete: event.ClassDelete,
		OpKeyDecrypt: event.ClassCrypto, OpKeyUnwrap: event.ClassCrypto, OpKeyEncrypt: event.ClassCrypto,
		OpKeyWrap: event.ClassCrypto, OpKeySign: event.ClassCrypto,
	}
	w.class = classes[a.Op]
	switch {
	case strings.HasPrefix(string(a.Op), "key-"):
		w.objKind = event.KindKey
		if a.Op != OpKeyList && (a.Op != OpKeyCreate || a.Status == 200) {
			w.obj = cloudTrailKeyID(v, a.Object)
		}
	case a.Op == OpSecretList:
		w.objKind = event.KindSecret
	default:
		w.objKind, w.obj = event.KindSecret, a.Object
		if a.Op == OpSecretGet {
			w.ver = cloudTrailVersionID(a)
		}
	}
	switch {
	case p.Kind == KindProviderService:
		w.caller, w.host = event.IdentityProviderService, cloudTrailService(p)
	case p.Kind == KindUser && strings.Contains(p.ARN, ":user/"):
		w.caller, w.arn, w.display = event.IdentityUser, p.ARN, p.Name
	case p.Kind == KindUser:
		role := p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
		w.caller, w.arn, w.upn = event.IdentityUser, "arn:aws:sts::"+v.Account+":assumed-role/"+role+"/"+p.UPN, p.UPN
	default:
		w.caller, w.arn = event.IdentityServicePrincipal, "arn:aws:sts::"+v.Account+":assumed-role/"+p.Name+"/"+p.Name
	}
	return w
}

func TestCloudTrailWriterRoundTrip(t *testing.T) {
	o := writerOrg()
	as := writerAccesses(o, AWS)
	dir := t.TempDir()
	writeAccesses(t, NewCloudTrailWriter(dir, o, 42), as)
	evs, _ := readWritten(t, dir)
	if len(evs) != len(as) {
		t.Fatalf("%d events for %d accesses", len(evs), len(as))
	}
	idx := accessesByTime(t, as, time.Second)
	re := regexp.MustCompile(`/AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	for i := range evs {
		e := &evs[i]
		a := idx[e.Time]
		if a == nil {
			t.Fatalf("event at %v matches no access", e.Time)
		}
		checkWritten(t, a, e, awsWriterWant(a))
		m := re.FindStringSubmatch(filepath.ToSlash(e.Source.File))
		if m == nil {
			t.Fatalf("file %s is not a CloudTrail delivery file", e.Source.File)
		}
		delivered, err := time.Parse("20060102T1504Z", m[8])
		if err != nil {
			t.Fatal(err)
		}
		if m[1] != a.Vault.Account || m[6] != a.Vault.Account || m[2] != a.Vault.Region || m[7] != a.Vault.Region ||
			m[3]+m[4]+m[5] != delivered.Format("20060102") {
			t.Errorf("file %s for an access to %s/%s", e.Source.File, a.Vault.Account, a.Vault.Region)
		}
		if d := delivered.Sub(a.Time); d <= 0 || d > cloudTrailEvery {
			t.Errorf("access at %v delivered in the file of %v", a.Time, delivered)
		}
	}
	// Gzip, wrapped in Records.
	for _, f := range writerFiles(t, dir) {
		zf, err := os.Open(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(zf)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b, _ := io.ReadAll(zr)
		zf.Close()
		var m struct {
			Records []map[string]any `json:"Records"`
		}
		if err := json.Unmarshal(b, &m); err != nil || len(m.Records) == 0 {
			t.Fatalf("%s: %v (%d records)", f, err, len(m.Records))
		}
		r := m.Records[0]
		if r["eventType"] != "AwsApiCall" || r["eventCategory"] != "Management" || !strings.HasSuffix(r["eventTime"].(string), "Z") {
			t.Errorf("%s: record %v", f, r)
		}
	}
}

// TestWritersDeterministic writes the same traffic twice with the same
// seed (same bytes) and once with another (other bytes).
func TestWritersDeterministic(t *testing.T) {
	o := writerOrg()
	write := func(seed uint64) map[string][]byte {
		dir := t.TempDir()
		for _, c := range []struct {
			p Provider
			w Writer
		}{
			{Azure, NewAzureWriter(dir, o, seed)},
			{HashiVault, NewVaultWriter(dir, o, seed)},
			{AWS, NewCloudTrailWriter(dir, o, seed)},
		} {
			as := slices.Concat(writerAccesses(o, Azure), writerAccesses(o, HashiVault), writerAccesses(o, AWS))
			slices.SortStableFunc(as, func(x, y *Access) int { return x.Time.Compare(y.Time) })
			writeAccesses(t, c.w, as)
		}
		out := map[string][]byte{}
		for _, f := range writerFiles(t, dir) {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			out[f] = b
		}
		return out
	}
	a, b, c := write(5), write(5), write(6)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d and %d files", len(a), len(b))
	}
	for f, x := range a {
		if !bytes.Equal(x, b[f]) {
			t.Errorf("%s differs between two runs with the same seed", f)
		}
	}
	same := 0
	for f, x := range a {
		if bytes.Equal(x, c[f]) {
			same++
		}
	}
	if same == len(a) {
		t.Errorf("another seed gave the same %d files", same)
	}
}

// TestWritersIgnoreOtherProviders feeds every writer the accesses of the
// others: they write nothing.
func TestWritersIgnoreOtherProviders(t *testing.T) {
	o := writerOrg()
	for _, c := range []struct {
		name  string
		new   func(string) Writer
		other []Provider
	}{
		{"azure", func(d string) Writer { return NewAzureWriter(d, o, 1) }, []Provider{HashiVault, AWS}},
		{"vault", func(d string) Writer { return NewVaultWriter(d, o, 1) }, []Provider{Azure, AWS}},
		{"cloudtrail", func(d string) Writer { return NewCloudTrailWriter(d, o, 1) }, []Provider{Azure, HashiVault}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var as []*Access
			for _, p := range c.other {
				as = append(as, writerAccesses(o, p)...)
			}
			writeAccesses(t, c.new(dir), as)
			if fs := writerFiles(t, dir); len(fs) != 0 {
				t.Errorf("wrote %v", fs)
			}
		})
	}
}

// recShape records, for JSON texts, the keys each object path holds and which
// key comes before which, so that simulated records can be held against
// real ones.
type recShape struct {
	keys   map[string]bool    // "properties.httpStatusCode"
	before map[[2]string]bool // {"properties.id", "properties.clientInfo"}
}

func newRecShape() *recShape {
	return &recShape{keys: map[string]bool{}, before: map[[2]string]bool{}}
}

// add reads one JSON text; collapse names the paths whose members vary
// (payloads): only the path itself is kept.
func (s *recShape) add(t *testing.T, b []byte, collapse func(string) bool) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		switch d {
		case '[':
			for dec.More() {
				if err := walk(path + "[]"); err != nil {
					return err
				}
			}
		case '{':
			var seen []string
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				p := kt.(string)
				if path != "" {
					p = path + "." + p
				}
				if collapse != nil && collapse(path) {
					var skip json.RawMessage
					if err := dec.Decode(&skip); err != nil {
						return err
					}
					continue
				}
				for _, q := range seen {
					s.before[[2]string{q, p}] = true
				}
				seen = append(seen, p)
				s.keys[p] = true
				if err := walk(p); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token() // closing delimiter
		return err
	}
	if err := walk(""); err != nil {
		t.Fatalf("shape: %v in %.200s", err, b)
	}
}

// conform reports the keys of got that real records never hold, and the
// pairs of keys got writes in the order opposite to the real records'.
func (s *recShape) conform(t *testing.T, what string, got *recShape, allowed func(string) bool) {
	t.Helper()
	var extra []string
	for k := range got.keys {
		if !s.keys[k] && (allowed == nil || !allowed(k)) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	if len(extra) > 0 {
		t.Errorf("%s: keys real records never hold: %v", what, extra)
	}
	var swapped []string
	for p := range got.before {
		if s.before[[2]string{p[1], p[0]}] && !s.before[p] {
			swapped = append(swapped, p[0]+" before "+p[1])
		}
	}
	slices.Sort(swapped)
	if len(swapped) > 0 {
		t.Errorf("%s: keys in another order than the real records': %v", what, swapped)
	}
}

// TestWritersConformToSamples holds the simulated records against the real
// samples: no key the real records never hold (beyond a few named ones),
// and the keys in the real records' order.
func TestWritersConformToSamples(t *testing.T) {
	samples := testutil.Samples(t)
	o := writerOrg()
	dir := t.TempDir()
	writeAccesses(t, NewAzureWriter(dir, o, 3), writerAccesses(o, Azure))
	writeAccesses(t, NewVaultWriter(dir, o, 3), writerAccesses(o, HashiVault))
	writeAccesses(t, NewCloudTrailWriter(dir, o, 3), writerAccesses(o, AWS))

	lines := func(path string) [][]byte {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]byte
		for _, l := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				out = append(out, l)
			}
		}
		return out
	}

	t.Run("azure", func(t *testing.T) {
		real := newRecShape()
		for _, l := range lines(filepath.Join(samples, "azure-kv-auditevent-sekoia-intake-formats.records.DERIVED.jsonl")) {
			if bytes.Contains(l, []byte(`"time":"2016-`)) {
				continue // Microsoft's 2016 documentation example, not a real record
			}
			real.add(t, l, func(p string) bool {
				return p == "properties.properties" || strings.HasSuffix(p, "Properties") || p == "identity.claim"
			})
		}
		got := newRecShape()
		for _, f := range writerFiles(t, dir) {
			if !strings.HasPrefix(f, "azure/") {
				continue
			}
			for _, l := range lines(filepath.Join(dir, f)) {
				if bytes.HasPrefix(l, []byte(`{"records":`)) {
					var m struct{ Records []json.RawMessage }
					if err := json.Unmarshal(l, &m); err != nil {
						t.Fatal(err)
					}
					for _, r := range m.Records {
						got.add(t, r, func(p string) bool {
							return p == "properties.properties" || strings.HasSuffix(p, "Properties") || p == "identity.claim"
						})
					}
					continue
				}
				got.add(t, l, func(p string) bool {
					return p == "properties.properties" || strings.HasSuffix(p, "Properties") || p == "identity.claim"
				})
			}
		}
		real.conform(t, "Azure AuditEvent", got, nil)
	})

	t.Run("cloudtrail", func(t *testing.T) {
		real := newRecShape()
		payload := func(p string) bool {
			return p == "requestParameters" || p == "responseElements" || p == "additionalEventData" || p == "serviceEventDetails"
		}
		// Every service's records: they share userIdentity's shapes.
		raw, err := filepath.Glob(filepath.Join(samples, "cloudtrail-invictus-ir-aws_dataset", "*.json"))
		if err != nil || len(raw) == 0 {
			t.Fatalf("no CloudTrail delivery files: %v", err)
		}
		for _, f := range raw {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var m struct{ Records []json.RawMessage }
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, r := range m.Records {
				real.add(t, r, payload)
			}
		}
		got := newRecShape()
		for _, f := range writerFiles(t, dir) {
			if !strings.HasPrefix(f, "aws/") {
				continue
			}
			zf, err := os.Open(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(zf)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(zr)
			zf.Close()
			var m struct{ Records []json.RawMessage }
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, r := range m.Records {
				got.add(t, r, payload)
			}
		}
		// The samples hold no denied or failed call of these services.
		real.conform(t, "CloudTrail", got, func(k string) bool { return k == "errorCode" || k == "errorMessage" })
	})

	t.Run("vault", func(t *testing.T) {
		real := newRecShape()
		payload := func(p string) bool {
			return strings.HasSuffix(p, ".data") || strings.HasSuffix(p, ".metadata") || strings.HasSuffix(p, ".headers")
		}
		for _, l := range lines(filepath.Join(samples, "vault-audit-real-devserver.jsonl")) {
			real.add(t, l, payload)
		}
		got := newRecShape()
		for _, l := range lines(vaultAuditLog(dir)) {
			got.add(t, l, payload)
		}
		real.conform(t, "Vault audit", got, nil)
	})
}

// TestWritersGolden keeps a few records of each writer in testdata, so
// that a change of format shows in review (go test -run Golden -update).
func TestWritersGolden(t *testing.T) {
	o := writerOrg()
	az, hv, aws := o.Vaults[0], o.Vaults[1], o.Vaults[2]
	user, sso, sp, mi, svc := o.Users[0], o.Users[1], o.Apps[0], o.Apps[1], o.Services[0]
	at := func(m int) time.Time { return writerStart.Add(10*time.Hour + time.Duration(m)*time.Minute + 123456789) }
	ip := netip.MustParseAddr("20.61.7.8")
	accesses := []*Access{
		{Time: at(0), Vault: az, Principal: sp, Op: OpSecretGet, Object: "db-password", Version: az.Versions["db-password"], IP: ip, Status: 200},
		{Time: at(1), Vault: az, Principal: user, Op: OpSecretList, IP: ip, Status: 403},
		{Time: at(2), Vault: az, Principal: mi, Op: OpKeyUnwrap, Object: "cmk-payments", IP: ip, Status: 200},
		{Time: at(3), Vault: az, Principal: sp, Op: OpSecretGet, Object: "db-password", IP: ip, Status: 401},
		{Time: at(4), Vault: az, Principal: user, Op: OpPolicyChange, IP: ip, Status: 200},
		{Time: at(5), Vault: az, Principal: svc, Op: OpVaultGet, IP: ip, Status: 200},
		{Time: at(6), Vault: az, Principal: sp, Op: OpSecretGet, Object: "old-secret", IP: ip, Status: 404},
		{Time: at(0), Vault: hv, Principal: sp, Op: OpLogin, IP: ip, Status: 200},
		{Time: at(1), Vault: hv, Principal: sp, Op: OpSecretGet, Object: "db/postgres", Version: "3", IP: ip, Status: 200},
		{Time: at(2), Vault: hv, Principal: user, Op: OpLogin, IP: ip, Status: 403},
		{Time: at(3), Vault: hv, Principal: sso, Op: OpSecretGet, Object: "api-token", IP: ip, Status: 403},
		{Time: at(4), Vault: hv, Principal: mi, Op: OpSecretList, IP: ip, Status: 200},
		{Time: at(5), Vault: hv, Principal: user, Op: OpAuditDisable, IP: ip, Status: 200, Root: true},
		{Time: at(0), Vault: aws, Principal: sp, Op: OpSecretGet, Object: "prod/payments/db", IP: ip, Status: 200},
		{Time: at(1), Vault: aws, Principal: user, Op: OpSecretGet, Object: "prod/payments/db", IP: ip, Status: 403},
		{Time: at(2), Vault: aws, Principal: svc, Op: OpKeyDecrypt, Object: "payments-cmk", IP: ip, Status: 200},
		{Time: at(3), Vault: aws, Principal: sso, Op: OpPolicyChange, Object: "prod/payments/db", IP: ip, Status: 200},
	}
	dir := t.TempDir()
	for _, w := range []Writer{NewAzureWriter(dir, o, 11), NewVaultWriter(dir, o, 11), NewCloudTrailWriter(dir, o, 11)} {
		writeAccesses(t, w, accesses)
	}
	for _, c := range []struct{ name, prefix string }{{"azure", "azure/"}, {"vault", "vault/"}, {"cloudtrail", "aws/"}} {
		var out bytes.Buffer
		for _, f := range writerFiles(t, dir) {
			if !strings.HasPrefix(f, c.prefix) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(f, ".gz") {
				zr, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if b, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			fmt.Fprintf(&out, "== %s\n%s\n", f, bytes.TrimSuffix(b, []byte("\n")))
		}
		testutil.Golden(t, filepath.Join("testdata", "writers", c.name+".golden"), out.Bytes())
	}
}
