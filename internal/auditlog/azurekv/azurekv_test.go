package azurekv

import (
	"encoding/json"
	"math/rand"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

func TestClassify(t *testing.T) {
	// Every operation name Key Vault documents, and a few it may add.
	tests := map[string]event.Class{
		"Authentication": event.ClassAuth,

		"VaultGet":     event.ClassManagement,
		"VaultPut":     event.ClassPolicyChange,
		"VaultPatch":   event.ClassPolicyChange,
		"VaultDelete":  event.ClassDelete,
		"VaultRecover": event.ClassRecover,
		"VaultAccessPolicyChangedEventGridNotification": event.ClassPolicyChange,

		"KeyCreate":                          event.ClassWrite,
		"KeyGet":                             event.ClassRead,
		"KeyImport":                          event.ClassWrite,
		"KeyDelete":                          event.ClassDelete,
		"KeySign":                            event.ClassCrypto,
		"KeyVerify":                          event.ClassCrypto,
		"KeyWrap":                            event.ClassCrypto,
		"KeyUnwrap":                          event.ClassCrypto,
		"KeyWrapKey":                         event.ClassCrypto,
		"KeyUnwrapKey":                       event.ClassCrypto,
		"KeyEncrypt":                         event.ClassCrypto,
		"KeyDecrypt":                         event.ClassCrypto,
		"KeyRelease":                         event.ClassCrypto,
		"KeyUpdate":                          event.ClassWrite,
		"KeyList":                            event.ClassList,
		"KeyListVersions":                    event.ClassList,
		"KeyPurge":                           event.ClassPurge,
		"KeyBackup":                          event.ClassBackup,
		"KeyRestore":                         event.ClassRestore,
		"KeyRecover":                         event.ClassRecover,
		"KeyGetDeleted":                      event.ClassRead,
		"KeyListDeleted":                     event.ClassList,
		"KeyNearExpiryEventGridNotification": event.ClassManagement,
		"KeyExpiredEventGridNotification":    event.ClassManagement,
		"KeyRotate":                          event.ClassWrite,
		"KeyRotateIfDue":                     event.ClassWrite,
		"KeyRotationPolicyGet":               event.ClassManagement,
		"KeyRotationPolicySet":               event.ClassManagement,
		"KeyGetRotationPolicy":               event.ClassManagement,

		"SecretSet":                             event.ClassWrite,
		"SecretGet":                             event.ClassRead,
		"SecretUpdate":                          event.ClassWrite,
		"SecretDelete":                          event.ClassDelete,
		"SecretList":                            event.ClassList,
		"SecretListVersions":                    event.ClassList,
		"SecretPurge":                           event.ClassPurge,
		"SecretBackup":                          event.ClassBackup,
		"SecretRestore":                         event.ClassRestore,
		"SecretRecover":                         event.ClassRecover,
		"SecretGetDeleted":                      event.ClassRead,
		"SecretListDeleted":                     event.ClassList,
		"SecretNearExpiryEventGridNotification": event.ClassManagement,
		"SecretExpiredEventGridNotification":    event.ClassManagement,

		"CertificateGet":                             event.ClassRead,
		"CertificateCreate":                          event.ClassWrite,
		"CertificateImport":                          event.ClassWrite,
		"CertificateUpdate":                          event.ClassWrite,
		"CertificateList":                            event.ClassList,
		"CertificateListVersions":                    event.ClassList,
		"CertificateDelete":                          event.ClassDelete,
		"CertificatePurge":                           event.ClassPurge,
		"CertificateBackup":                          event.ClassBackup,
		"CertificateRestore":                         event.ClassRestore,
		"CertificateRecover":                         event.ClassRecover,
		"CertificateGetDeleted":                      event.ClassRead,
		"CertificateListDeleted":                     event.ClassList,
		"CertificatePolicyGet":                       event.ClassManagement,
		"CertificatePolicyUpdate":                    event.ClassManagement,
		"CertificatePolicySet":                       event.ClassManagement,
		"CertificateContactsGet":                     event.ClassManagement,
		"CertificateContactsSet":                     event.ClassManagement,
		"CertificateContactsDelete":                  event.ClassManagement,
		"CertificateIssuerGet":                       event.ClassManagement,
		"CertificateIssuerSet":                       event.ClassManagement,
		"CertificateIssuerUpdate":                    event.ClassManagement,
		"CertificateIssuerDelete":                    event.ClassManagement,
		"CertificateIssuersList":                     event.ClassList,
		"CertificateEnroll":                          event.ClassWrite,
		"CertificateRenew":                           event.ClassWrite,
		"CertificatePendingGet":                      event.ClassManagement,
		"CertificatePendingMerge":                    event.ClassWrite,
		"CertificatePendingUpdate":                   event.ClassManagement,
		"CertificatePendingDelete":                   event.ClassManagement,
		"CertificateNearExpiryEventGridNotification": event.ClassManagement,
		"CertificateExpiredEventGridNotification":    event.ClassManagement,

		// Managed HSM role management, and names the rules must not guess.
		"RoleAssignmentCreate":    event.ClassPolicyChange,
		"RoleAssignmentDelete":    event.ClassPolicyChange,
		"RoleAssignmentGet":       event.ClassManagement,
		"RoleAssignmentList":      event.ClassList,
		"RoleDefinitionSet":       event.ClassPolicyChange,
		"StorageAccountSetPolicy": event.ClassPolicyChange,
		"SecurityDomainDownload":  event.ClassOther,
		"Get":                     event.ClassOther,
		"":                        event.ClassOther,
	}
	for name, want := range tests {
		if got := classify(name); got != want {
			t.Errorf("classify(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestParseObjectURI(t *testing.T) {
	const h = "https://kv-a.vault.azure.net"
	const v = "4f9c2d1e8b7a4c6d9e0f1a2b3c4d5e6f"
	tests := []struct {
		uri    string
		fromID bool
		kind   event.ObjectKind
		name   string
		ver    string
	}{
		{h + "/secrets/db-password/" + v, true, event.KindSecret, "db-password", v},
		{h + "/secrets/db-password", true, event.KindSecret, "db-password", ""},
		{h + "/Secrets/DB-Password/?api-version=7.4", false, event.KindSecret, "DB-Password", ""},
		{h + "/keys/k1/" + v + "/sign?api-version=7.4", false, event.KindKey, "k1", v},
		{h + "/keys/k1/versions?api-version=7.4&maxresults=25", false, event.KindKey, "k1", ""},
		{h + "/keys/k1/backup", false, event.KindKey, "k1", ""},
		{h + "/deletedkeys/k1", true, event.KindKey, "k1", ""},
		{h + "/deletedsecrets/s1/recover?api-version=7.4", false, event.KindSecret, "s1", ""},
		{h + "/certificates/c1/pending", true, event.KindCertificate, "c1", ""},
		{h + "/deletedcertificates/c1", true, event.KindCertificate, "c1", ""},
		{h + "/secrets/s1#frag", true, event.KindSecret, "s1", ""},
		{"/secrets/s1/" + v, true, event.KindSecret, "s1", v},
		// No object.
		{h + "/", true, "", "", ""},
		{h, true, "", "", ""},
		{h + "/secrets?api-version=7.4", false, "", "", ""},
		{h + "/secrets/?api-version=7.4", false, "", "", ""},
		{h + "/secrets/restore?api-version=7.4", false, "", "", ""},
		{h + "/certificates/issuers/DigiCert", true, "", "", ""},
		{h + "/certificates/contacts", false, "", "", ""},
		{h + "/storage/st1", true, "", "", ""},
		{"https://management.azure.com/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-a", false, "", "", ""},
		{"", true, "", "", ""},
	}
	for _, tt := range tests {
		kind, name, ver, ok := parseObjectURI([]byte(tt.uri), tt.fromID)
		if kind != tt.kind || string(name) != tt.name || string(ver) != tt.ver || ok != (tt.kind != "") {
			t.Errorf("parseObjectURI(%q, %v) = %q %q %q %v, want %q %q %q", tt.uri, tt.fromID,
				kind, name, ver, ok, tt.kind, tt.name, tt.ver)
		}
	}
}

func TestVaultHost(t *testing.T) {
	tests := map[string]string{
		"https://kv-a.vault.azure.net/secrets/x":        "kv-a",
		"https://KV-A.vault.azure.net:443/":             "KV-A",
		"https://kv-cn.vault.azure.cn/keys":             "kv-cn",
		"https://kv-gov.vault.usgovcloudapi.net/":       "kv-gov",
		"https://hsm-a.managedhsm.azure.net/keys/k":     "hsm-a",
		"https://management.azure.com/subscriptions/x":  "",
		"https://kv-a.privatelink.vaultcore.azure.net/": "",
		"/secrets/x": "",
		"":           "",
	}
	for uri, want := range tests {
		if got := string(vaultHost([]byte(uri))); got != want {
			t.Errorf("vaultHost(%q) = %q, want %q", uri, got, want)
		}
	}
	if got := string(armVaultName([]byte("https://management.azure.com/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-B?api-version=1"))); got != "kv-B" {
		t.Errorf("armVaultName = %q", got)
	}
}

func TestOutcome(t *testing.T) {
	sigs := map[string]event.Outcome{
		"OK": event.OutcomeSuccess, "ok": event.OutcomeSuccess, "Accepted": event.OutcomeSuccess,
		"Created": event.OutcomeSuccess, "NoContent": event.OutcomeSuccess, "No Content": event.OutcomeSuccess,
		"Forbidden": event.OutcomeDenied, "Unauthorized": event.OutcomeUnauthenticated,
		"NotFound": event.OutcomeNotFound, "Not Found": event.OutcomeNotFound,
		"TooManyRequests": event.OutcomeThrottled, "Too Many Requests": event.OutcomeThrottled,
		"Conflict": event.OutcomeError, "Bad Request": event.OutcomeError, "OKAY": event.OutcomeError,
		"O": event.OutcomeError, "": event.OutcomeUnknown,
	}
	for sig, want := range sigs {
		if got := signatureOutcome([]byte(sig)); got != want {
			t.Errorf("signatureOutcome(%q) = %q, want %q", sig, got, want)
		}
	}
	statuses := map[int]event.Outcome{
		200: event.OutcomeSuccess, 202: event.OutcomeSuccess, 204: event.OutcomeSuccess, 304: event.OutcomeSuccess,
		400: event.OutcomeError, 401: event.OutcomeUnauthenticated, 403: event.OutcomeDenied,
		404: event.OutcomeNotFound, 409: event.OutcomeError, 429: event.OutcomeThrottled,
		500: event.OutcomeError, 503: event.OutcomeError,
	}
	for s, want := range statuses {
		if got := statusOutcome(s); got != want {
			t.Errorf("statusOutcome(%d) = %q, want %q", s, got, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	// The fast path takes Key Vault's own shape and agrees with the generic
	// parser.
	for _, s := range []string{
		"2024-04-03T14:03:10.7886260Z",
		"2024-04-03T14:03:10Z",
		"2024-04-03T14:03:10.7Z",
		"2024-04-03T14:03:10.123456789Z",
		"2024-02-29T23:59:59.9999999Z",
		"2000-02-29T00:00:00Z",
		"1970-01-01T00:00:00Z",
		"1969-12-31T23:59:59.5Z",
		"0001-03-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999Z",
	} {
		fast, ok := parseUTC([]byte(s))
		want, wok := record.ParseTime([]byte(s))
		if !ok || !wok || !fast.Equal(want) || fast.Location() != time.UTC {
			t.Errorf("parseUTC(%q) = %v %v, want %v %v", s, fast, ok, want, wok)
		}
	}
	// Anything else goes to the generic parser, whatever it decides.
	for _, s := range []string{
		"2024-04-03T16:03:10.788+02:00", "2024-04-03 14:03:10", "2024-04-03T14:03:10.1234567890Z",
		"4/3/2024, 2:03:10.788 PM", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2024-04-31T00:00:00Z",
		"2024-13-01T00:00:00Z", "2024-04-03T24:00:00Z", "2024-04-03T14:60:00Z", "2024-04-03T14:03:60Z",
		"2024-04-03T14:03:10.Z", "2024-04-03T14:03:1xZ", "0000-01-01T00:00:00Z", "",
	} {
		if got, ok := parseUTC([]byte(s)); ok {
			t.Errorf("parseUTC(%q) = %v, want no fast path", s, got)
		}
		got, ok := parseTime([]byte(s))
		want, wok := record.ParseTime([]byte(s))
		if ok != wok || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v %v, record.ParseTime %v %v", s, got, ok, want, wok)
		}
	}
	// Impossible dates are refused.
	for _, s := range []string{"2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-04-03T24:00:00Z", "2024-04-03T14:03:1xZ", ""} {
		if got, ok := parseTime([]byte(s)); ok {
			t.Errorf("parseTime(%q) = %v, want an error", s, got)
		}
	}
}

// decodeJSON decodes one record given as JSON text with a fresh decoder.
func decodeJSON(t *testing.T, rec string) (*event.Event, error) {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got *event.Event
	err = NewDecoder().Decode(v, event.Location{}, func(e *event.Event) {
		c := *e
		got = &c
	})
	if (err == nil) != (got != nil) {
		t.Fatalf("Decode returned %v and emitted %v", err, got)
	}
	return got, err
}

func TestSkipReasons(t *testing.T) {
	const rid = `/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/`
	tests := map[string]string{
		`{"time":"2025-03-14T09:00:00Z","resourceId":"` + rid + `MICROSOFT.KEYVAULT/VAULTS/KV","operationName":"x","category":"AzurePolicyEvaluationDetails"}`: "category AzurePolicyEvaluationDetails",
		`{"time":"2025-03-14T09:00:00Z","resourceId":"` + rid + `MICROSOFT.KEYVAULT/VAULTS/KV","operationName":"x","category":"a category; with text"}`:        "category other",
		`{"time":"2025-03-14T09:00:00Z","resourceId":"` + rid + `MICROSOFT.STORAGE/STORAGEACCOUNTS/ST","operationName":"GetBlob","category":"AuditEvent"}`:     "resource provider microsoft.storage",
		`{"TimeGenerated":"2025-03-14T09:00:00Z","ResourceProvider":"MICROSOFT.WEB","Category":"AuditEvent","OperationName":"x"}`:                              "resource provider microsoft.web",
		`{"TimeGenerated":"2025-03-14T09:00:00Z","Type":"AZKVPolicyEvaluationDetailsLogs","OperationName":"x"}`:                                                "table AZKVPolicyEvaluationDetailsLogs",
		// Activity-log records other than a key vault's diagnostic settings.
		`{"time":"2025-03-14T09:00:00Z","resourceId":"` + rid + `MICROSOFT.KEYVAULT/VAULTS/KV","operationName":"MICROSOFT.KEYVAULT/VAULTS/WRITE","category":"Administrative","resultType":"Success"}`:                                                                 "category Administrative",
		`{"time":"2025-03-14T09:00:00Z","resourceId":"` + rid + `MICROSOFT.KEYVAULT/VAULTS/KV","operationName":"MICROSOFT.KEYVAULT/VAULTS/DELETE","category":"Delete","resultType":"Success"}`:                                                                        "category Delete",
		`{"TimeGenerated":"2025-03-14T09:00:00Z","Type":"AzureActivity","OperationNameValue":"MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION","ResourceId":"` + rid + `MICROSOFT.COMPUTE/VIRTUALMACHINES/VM"}`:                                                        "table AzureActivity",
		`{"time":"2025-03-14T09:00:00Z","resourceId":"` + rid + `MICROSOFT.KEYVAULT/VAULTS/KV/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/D","operationName":"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE","category":"Administrative","resultType":"Start"}`:     "activity started",
		`{"time":"2025-03-14T09:00:00Z","resourceId":"` + rid + `MICROSOFT.KEYVAULT/VAULTS/KV/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/D/X","operationName":"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/WRITE","category":"Administrative","resultType":"Success"}`: "category Administrative",
	}
	for rec, want := range tests {
		_, err := decodeJSON(t, rec)
		if reason, ok := record.IsSkip(err); !ok || reason != want {
			t.Errorf("%s: got %v, want skip %q", rec, err, want)
		}
	}
}

// TestErrorsNameFieldsOnly checks that a malformed record's error names the
// field and never quotes its value.
func TestErrorsNameFieldsOnly(t *testing.T) {
	tests := []struct{ rec, field, value string }{
		{`{"time":"s3cr3t-not-a-time","resourceId":"/r/kv","operationName":"SecretGet"}`, "time", "s3cr3t"},
		{`{"TimeGenerated":"s3cr3t-0000000","ResourceId":"/r/kv","OperationName":"SecretGet","Category":"AuditEvent"}`, "TimeGenerated", "s3cr3t"},
		{`{"time":1710408097,"resourceId":"/r/kv","operationName":"SecretGet"}`, "time", "1710408097"},
		{`{"resourceId":"/r/kv","operationName":"SecretGet"}`, "time", ""},
		{`{"time":"2025-03-14T09:00:00Z","operationName":"SecretGet","category":"AuditEvent","properties":{"requestUri":"https://s3cr3t.example.com/x"}}`, "resourceId", "s3cr3t"},
		{`{"time":"2025-03-14T09:00:00Z","resourceId":"/r/kv","operationName":["s3cr3t"]}`, "operationName", "s3cr3t"},
		{`["s3cr3t"]`, "record", "s3cr3t"},
		{`{"time":"s3cr3t-not-a-time","resourceId":"/S/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/D","operationName":"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE","category":"Administrative","resultType":"Success"}`, "time", "s3cr3t"},
		{`{"Type":"AzureActivity","ResourceId":"/S/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV/PROVIDERS/MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/D","OperationNameValue":"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE","ActivityStatusValue":"Success"}`, "time", ""},
	}
	for _, tt := range tests {
		_, err := decodeJSON(t, tt.rec)
		if err == nil {
			t.Errorf("%s: no error", tt.rec)
			continue
		}
		if _, skip := record.IsSkip(err); skip {
			t.Errorf("%s: skipped, want malformed", tt.rec)
		}
		if !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: error %q does not name %q", tt.rec, err, tt.field)
		}
		if tt.value != "" && strings.Contains(err.Error(), tt.value) {
			t.Errorf("%s: error %q quotes the value", tt.rec, err)
		}
	}
}

func TestDetect(t *testing.T) {
	tests := map[string]bool{
		`{"time":"t","resourceId":"/r","operationName":"SecretGet"}`:                              true,
		`{"time":"t","category":"AuditEvent","operationName":"SecretGet"}`:                        true,
		`{"time":"t","category":"auditevent","operationName":"SecretGet"}`:                        true,
		`{"ResourceProvider":"MICROSOFT.KEYVAULT","OperationName":"SecretGet"}`:                   true,
		`{"Category":"AuditEvent","OperationName":"SecretGet"}`:                                   true,
		`{"Type":"AZKVAuditLogs","OperationName":"SecretGet"}`:                                    true,
		`{"_ResourceId":"/subscriptions/s/providers/Microsoft.KeyVault/vaults/kv"}`:               true,
		`{"Type":"AzureActivity","OperationNameValue":"MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE"}`: true,
		`{"time":"t","operationName":"SecretGet"}`:                                                false,
		`{"time":"t","resourceId":"/r","operationName":"x","eventSource":"kms.amazonaws.com"}`:    false,
		`{"time":"t","resourceId":"/r","operationName":"x","protoPayload":{}}`:                    false,
		`{"time":"t","resourceId":"/r","operationName":"x","type":"request"}`:                     false,
		`{"Category":"AuditEvent"}`:                                                               false,
		`{"Type":"AzureDiagnostics","ResourceProvider":"MICROSOFT.SQL","OperationName":"x"}`:      false,
		`{"eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue"}`:             false,
		`{"type":"request","time":"t","request":{"path":"secret/data/x"}}`:                        false,
		`["operationName"]`: false,
		`"operationName"`:   false,
	}
	var p fastjson.Parser
	for rec, want := range tests {
		v, err := p.Parse(rec)
		if err != nil {
			t.Fatal(err)
		}
		if got := Detect(v); got != want {
			t.Errorf("Detect(%s) = %v, want %v", rec, got, want)
		}
	}
}

// TestStreamOrder decodes every golden record with one decoder, in several
// orders, and checks each event equals the one a fresh decoder makes: what
// the decoder remembers between records never leaks into the next.
func TestStreamOrder(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*", "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []json.RawMessage
	for _, in := range inputs {
		recs = append(recs, readRecords(t, in)...)
	}
	type result struct {
		ev  *event.Event
		err string
	}
	decode := func(d *Decoder, rec []byte) result {
		var p fastjson.Parser
		v, err := p.ParseBytes(rec)
		if err != nil {
			t.Fatal(err)
		}
		var r result
		if err := d.Decode(v, event.Location{}, func(e *event.Event) { c := *e; r.ev = &c }); err != nil {
			r.err = err.Error()
		}
		return r
	}
	want := make([]result, len(recs))
	for i, rec := range recs {
		want[i] = decode(NewDecoder(), rec)
	}
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 5; round++ {
		order := rng.Perm(len(recs))
		if round == 0 {
			for i := range order {
				order[i] = i
			}
		}
		d := NewDecoder()
		for _, i := range order {
			// Twice in a row: the second decode is served from memory.
			for range 2 {
				if got := decode(d, recs[i]); !reflect.DeepEqual(got, want[i]) {
					t.Fatalf("record %d in a stream: got %+v / %q, want %+v / %q", i, got.ev, got.err, want[i].ev, want[i].err)
				}
			}
		}
	}
}

func TestFormat(t *testing.T) {
	if Format.Name != event.FormatAzureKeyVault || Format.Detect == nil {
		t.Fatalf("Format = %+v", Format)
	}
	a, b := Format.New(), Format.New()
	if _, ok := a.(*Decoder); !ok || a == b {
		t.Errorf("New returned %T %p and %p, want two *Decoder", a, a, b)
	}
}
