package azurekv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// The Azure Key Vault samples: one record per line, and the same records
// one per file, as the JSON text of input.message.
const (
	sampleLines = "azure-kv-auditevent-sekoia-intake-formats.records.DERIVED.jsonl"
	sampleDir   = "azure-kv-auditevent-sekoia-intake-formats"
	sampleCount = 32
)

// decodeSample parses one record and decodes it with d, failing the test
// unless Detect is true and Decode emits exactly one event.
func decodeSample(t *testing.T, d *Decoder, p *fastjson.Parser, rec []byte, where string) event.Event {
	t.Helper()
	v, err := p.ParseBytes(rec)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	if !Detect(v) {
		t.Errorf("%s: Detect is false", where)
	}
	var got []event.Event
	if err := d.Decode(v, event.Location{File: where}, func(e *event.Event) { got = append(got, *e) }); err != nil {
		t.Fatalf("%s: malformed: %v", where, err)
	}
	if len(got) != 1 {
		t.Fatalf("%s: %d events, want 1", where, len(got))
	}
	checkInvariants(t, &got[0])
	return got[0]
}

// sampleFiles decodes every per-file sample, by file name.
func sampleFiles(t *testing.T, dir string) (names []string, events map[string]event.Event) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, sampleDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder()
	var p fastjson.Parser
	events = map[string]event.Event{}
	for _, path := range paths {
		name := filepath.Base(path)
		names = append(names, name)
		events[name] = decodeSample(t, d, &p, sampleMessage(t, path), name)
	}
	sort.Strings(names)
	return names, events
}

func TestSamples(t *testing.T) {
	dir := testutil.Samples(t)

	names, byFile := sampleFiles(t, dir)
	if len(names) != sampleCount {
		t.Fatalf("%d sample files, want %d", len(names), sampleCount)
	}

	f, err := os.Open(filepath.Join(dir, sampleLines))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := NewDecoder()
	var p fastjson.Parser
	var lines []event.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		lines = append(lines, decodeSample(t, d, &p, sc.Bytes(), sampleLines))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) != sampleCount {
		t.Fatalf("%d records in %s, want %d", len(lines), sampleLines, sampleCount)
	}
	// The lines hold the files' records in file name order: one stream
	// decoder must give what a decoder per file gives.
	for i, name := range names {
		a, b := lines[i], byFile[name]
		a.Source, b.Source = event.Location{}, event.Location{}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("line %d and %s differ:\n%+v\n%+v", i+1, name, a, b)
		}
	}

	// Every operation in the samples, classified by hand.
	classes := map[string]event.Class{
		"CertificateCreate": event.ClassWrite,
		"CertificateImport": event.ClassWrite,
		"CertificateUpdate": event.ClassWrite,
		"KeyBackup":         event.ClassBackup,
		"KeyDelete":         event.ClassDelete,
		"KeyGet":            event.ClassRead,
		"KeyList":           event.ClassList,
		"KeyListDeleted":    event.ClassList,
		"KeyListVersions":   event.ClassList,
		"KeyPurge":          event.ClassPurge,
		"KeyUpdate":         event.ClassWrite,
		"SecretBackup":      event.ClassBackup,
		"SecretDelete":      event.ClassDelete,
		"SecretGet":         event.ClassRead,
		"SecretList":        event.ClassList,
		"SecretListDeleted": event.ClassList,
		"SecretPurge":       event.ClassPurge,
		"SecretRestore":     event.ClassRestore,
		"SecretUpdate":      event.ClassWrite,
		"VaultGet":          event.ClassManagement,
		"VaultPatch":        event.ClassPolicyChange,
	}
	for _, name := range names {
		op := byFile[name].Operation
		want, ok := classes[op.Name]
		if !ok {
			t.Errorf("%s: operation %q not classified by hand here", name, op.Name)
		} else if op.Class != want {
			t.Errorf("%s: %s is %q, want %q", name, op.Name, op.Class, want)
		}
	}

	const (
		user   = "john.doe@dummy.onmicrosoft.com"
		portal = "3686488a-04fc-4d8a-b967-61f98ec41efe"
		mozUA  = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64) Firefox/12.0"
		testPV = "/subscriptions/f40a1f1d-f2c6-4444-92a6-xxxxxxxxxx/resourcegroups/integration/providers/microsoft.keyvault/vaults/testpermissionvault"
	)
	ip := netip.MustParseAddr("147.161.0.0")
	want := map[string]event.Event{
		// Denied by RBAC: 403, isRbacAuthorized false; clientInfo is an app id.
		"test_event_secret_get_1.json": {
			Time:      time.Date(2024, 4, 2, 8, 20, 49, 268160000, time.UTC),
			Vault:     event.Vault{ID: "/subscriptions/f40a1f1d-f2c6-4444-xxxx/resourcegroups/integration/providers/microsoft.keyvault/vaults/keytestint", Name: "keytestint"},
			Operation: event.Operation{Name: "SecretGet", Class: event.ClassRead},
			Object:    event.Object{Kind: event.KindSecret, Name: "a"},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d4ba3e84-0444-4841-aaf7-XXXXX", UPN: user,
				AppID: portal, DisplayName: user},
			IP: ip, UserAgent: portal, CorrelationID: "1b3aa393-f142-4329-8b1f-c5222119ae35",
			Result: event.Result{Outcome: event.OutcomeDenied, Status: 403, Reason: "Forbidden"},
		},
		// Denied by access policy: 403, isAccessPolicyMatch false, on a deleted secret.
		"test_event_secret_purge.json": {
			Time:      time.Date(2024, 4, 4, 6, 45, 24, 375618100, time.UTC),
			Vault:     event.Vault{ID: testPV, Name: "testpermissionvault"},
			Operation: event.Operation{Name: "SecretPurge", Class: event.ClassPurge},
			Object:    event.Object{Kind: event.KindSecret, Name: "mysecret"},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d4ba3e84-0444-4841-aaf7-XXXXXX", UPN: user,
				AppID: portal, DisplayName: user},
			IP: ip, UserAgent: mozUA, CorrelationID: "524974e7-1a6f-4a01-aded-a0b846311986",
			Result: event.Result{Outcome: event.OutcomeDenied, Status: 403, Reason: "Forbidden"},
		},
		// A deleted key's name is lower-cased.
		"test_event_key_purge.json": {
			Time:      time.Date(2024, 4, 4, 6, 47, 52, 50226000, time.UTC),
			Vault:     event.Vault{ID: testPV, Name: "testpermissionvault"},
			Operation: event.Operation{Name: "KeyPurge", Class: event.ClassPurge},
			Object:    event.Object{Kind: event.KindKey, Name: "myfirstkey"},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d4ba3e84-0444-4841-aaf7-XXXXXX", UPN: user,
				AppID: portal, DisplayName: user},
			IP: ip, UserAgent: mozUA, CorrelationID: "3cff8050-bd18-4acd-94ba-c6196ffa3ad4",
			Result: event.Result{Outcome: event.OutcomeDenied, Status: 403, Reason: "Forbidden"},
		},
		// Not found: 404, signature "Not Found".
		"test_event_key_get.json": {
			Time:      time.Date(2024, 4, 3, 14, 2, 45, 94872300, time.UTC),
			Vault:     event.Vault{ID: "/subscriptions/f40a1f1d-f2c6-4444-xxxx/resourcegroups/integration/providers/microsoft.keyvault/vaults/testpermissionvault", Name: "testpermissionvault"},
			Operation: event.Operation{Name: "KeyGet", Class: event.ClassRead},
			Object:    event.Object{Kind: event.KindKey, Name: "egzghfgrrg"},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d4ba3e84-0444-4841-aaf7-XXXX", UPN: user,
				AppID: portal, DisplayName: user},
			IP: ip, UserAgent: mozUA, CorrelationID: "afabe187-cad6-4ca1-9698-e4ed73479b7c",
			Result: event.Result{Outcome: event.OutcomeNotFound, Status: 404, Reason: "Not Found"},
		},
		"test_event_secret_get.json": {
			Time:      time.Date(2024, 4, 3, 14, 8, 43, 431653100, time.UTC),
			Vault:     event.Vault{ID: testPV, Name: "testpermissionvault"},
			Operation: event.Operation{Name: "SecretGet", Class: event.ClassRead},
			Object:    event.Object{Kind: event.KindSecret, Name: "keykey"},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d4ba3e84-0444-4841-aaf7-XXXXXXXX", UPN: user,
				AppID: portal, DisplayName: user},
			IP: ip, UserAgent: mozUA, CorrelationID: "c86f2715-79c5-433f-937c-ed76ddde840c",
			Result: event.Result{Outcome: event.OutcomeNotFound, Status: 404, Reason: "Not Found"},
		},
		// A Microsoft service (Azure Resource Graph) reading the vault: a
		// service principal by its long object id claim and app id.
		"test_event_vault_get_1.json": {
			Time:      time.Date(2024, 3, 30, 22, 29, 57, 278485800, time.UTC),
			Vault:     event.Vault{ID: "/subscriptions/xxxxxx/xxxxx/xxxxxxx/xxxxx/microsoft.keyvault/vaults/xxxxxxx", Name: "xxxxxxx"},
			Operation: event.Operation{Name: "VaultGet", Class: event.ClassManagement},
			Caller:    event.Caller{Type: event.IdentityServicePrincipal, ObjectID: "xxxxxxxxxxxxx", AppID: "app-id-xxxxxxxxxxxxx"},
			IP:        netip.MustParseAddr("1.2.3.4"), UserAgent: "AzureResourceGraph.IngestionWorkerService.global/1.2.3.4",
			CorrelationID: "xxxxxxxxxxxxx",
			Result:        event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		},
		// Signature Forbidden with status 200 (an edited example): denied.
		"test_event_vault_get_3.json": {
			Time:      time.Date(2016, 1, 5, 1, 32, 1, 269122600, time.UTC),
			Vault:     event.Vault{ID: "/subscriptions/361da5d4-a47a-4c79-afdd-xxxxxxxxxxxx/resourcegroups/contosogroup/providers/microsoft.keyvault/vaults/contosokeyvault", Name: "contosokeyvault"},
			Operation: event.Operation{Name: "VaultGet", Class: event.ClassManagement},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d9da5048-2737-4770-bd64-XXXXXXXXXXXX",
				UPN: "live.com#username@outlook.com", AppID: "1950a258-227b-4e31-a9cf-XXXXXXXXXXXX",
				DisplayName: "live.com#username@outlook.com"},
			IP: netip.MustParseAddr("104.40.82.76"), UserAgent: "azure-resource-manager/2.0",
			Result: event.Result{Outcome: event.OutcomeDenied, Status: 200, Reason: "Forbidden"},
		},
		// Control plane with long claims: an access policy change.
		"test_event_vault_patch.json": {
			Time:      time.Date(2024, 4, 8, 15, 15, 50, 625767000, time.UTC),
			Vault:     event.Vault{ID: "/subscriptions/f40a1f1d-f2c6-4444-92a6-xxxx/resourcegroups/integration/providers/microsoft.keyvault/vaults/myright3", Name: "myright3"},
			Operation: event.Operation{Name: "VaultPatch", Class: event.ClassPolicyChange},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d4ba3e84-0444-4841-aaf7-XXXXXXXXXXXX", UPN: user,
				AppID: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", DisplayName: user},
			IP: ip, UserAgent: "Mozilla/5.0", CorrelationID: "eb6f7f30-b6ae-4ba6-a6cf-fbe90d4d5121",
			Result: event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		},
		// A versioned key id.
		"test_event_key_update.json": {
			Time:      time.Date(2024, 4, 8, 15, 14, 5, 405716400, time.UTC),
			Vault:     event.Vault{ID: "/subscriptions/f40a1f1d-f2c6-4444-92a6-xxxx/resourcegroups/integration/providers/microsoft.keyvault/vaults/myright3", Name: "myright3"},
			Operation: event.Operation{Name: "KeyUpdate", Class: event.ClassWrite},
			Object:    event.Object{Kind: event.KindKey, Name: "iiii", Version: "c0d4c7ec6efb4fbeaec16a3872519399"},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d4ba3e84-0444-4841-aaf7-XXXXXXXXXXXX", UPN: user,
				AppID: portal, DisplayName: user},
			IP: ip, UserAgent: mozUA, CorrelationID: "bbd1b29d-5b8b-4639-9980-XXXXX",
			Result: event.Result{Outcome: event.OutcomeSuccess, Status: 200},
		},
		// A conflict is an error.
		"test_event_secret_restore.json": {
			Time:      time.Date(2024, 4, 4, 6, 44, 17, 485722200, time.UTC),
			Vault:     event.Vault{ID: testPV, Name: "testpermissionvault"},
			Operation: event.Operation{Name: "SecretRestore", Class: event.ClassRestore},
			Object:    event.Object{Kind: event.KindSecret, Name: "keykey"},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d4ba3e84-0444-4841-aaf7-XXXXXX", UPN: user,
				AppID: portal, DisplayName: user},
			IP: ip, UserAgent: mozUA, CorrelationID: "00f4eafb-43a6-412f-a908-fd20d5aef64c",
			Result: event.Result{Outcome: event.OutcomeError, Status: 409, Reason: "Conflict"},
		},
		// A list denied by RBAC names no object.
		"test_event_key_list_1.json": {
			Time:      time.Date(2024, 4, 2, 8, 21, 11, 572290700, time.UTC),
			Vault:     event.Vault{ID: "/subscriptions/f40a1f1d-f2c6-4444-xxxx/resourcegroups/integration/providers/microsoft.keyvault/vaults/keytestint", Name: "keytestint"},
			Operation: event.Operation{Name: "KeyList", Class: event.ClassList},
			Caller: event.Caller{Type: event.IdentityUser, ObjectID: "d4ba3e84-0444-4841-aaf7-XXXXX", UPN: user,
				AppID: portal, DisplayName: user},
			IP: ip, UserAgent: portal, CorrelationID: "4f1a71d0-6490-49dd-a720-1fa8adfef495",
			Result: event.Result{Outcome: event.OutcomeDenied, Status: 403, Reason: "Forbidden"},
		},
	}
	for name, w := range want {
		got, ok := byFile[name]
		if !ok {
			t.Errorf("%s: no such sample", name)
			continue
		}
		w.Provider, w.Format = event.ProviderAzureKeyVault, event.FormatAzureKeyVault
		w.Source = event.Location{File: name}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, w)
		}
	}
}

// TestSamplesOtherFormats checks that Detect is false for every record of
// the other formats' samples.
func TestSamplesOtherFormats(t *testing.T) {
	dir := testutil.Samples(t)
	var files []string
	err := filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := e.Name()
		if e.IsDir() {
			if strings.HasPrefix(name, "azure-kv-") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, "azure-kv-") {
			return nil
		}
		if strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".jsonl") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var p fastjson.Parser
	n := 0
	for _, path := range files {
		for _, rec := range jsonRecords(t, path) {
			v, err := p.ParseBytes(rec)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			n++
			if Detect(v) {
				t.Errorf("%s: Detect is true for a record of another format", filepath.Base(path))
			}
		}
	}
	if n < 500 {
		t.Errorf("only %d records of other formats checked", n)
	}
}

// jsonRecords reads the top-level JSON values of a file (one, a stream or
// JSON Lines) and returns the records they hold: array elements, the
// elements of a {"Records": [...]} wrapper, the Log of a rule test, or the
// value itself.
func jsonRecords(t *testing.T, path string) []json.RawMessage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []json.RawMessage
	var add func(raw json.RawMessage)
	add = func(raw json.RawMessage) {
		raw = bytes.TrimSpace(raw)
		if len(raw) > 0 && raw[0] == '[' {
			var elems []json.RawMessage
			if err := json.Unmarshal(raw, &elems); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for _, e := range elems {
				add(e)
			}
			return
		}
		var w struct {
			Records []json.RawMessage
			Log     json.RawMessage
		}
		if json.Unmarshal(raw, &w) == nil {
			switch {
			case w.Records != nil:
				for _, e := range w.Records {
					add(e)
				}
				return
			case w.Log != nil:
				add(w.Log)
				return
			}
		}
		recs = append(recs, raw)
	}
	dec := json.NewDecoder(f)
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		add(raw)
	}
	return recs
}

// sampleMessage returns the record a sample file holds: its input.message.
func sampleMessage(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wrapper struct {
		Input struct {
			Message string `json:"message"`
		} `json:"input"`
	}
	if err := json.Unmarshal(b, &wrapper); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(wrapper.Input.Message)
}
