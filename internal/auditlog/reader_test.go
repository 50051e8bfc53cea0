package auditlog

import (
	"bytes"
	"strings"
	"testing"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

func readString(t *testing.T, in string) ([]event.Event, *Stats) {
	t.Helper()
	var evs []event.Event
	r := NewReader(func(e *event.Event) { evs = append(evs, *e) })
	r.ReadStream("in", strings.NewReader(in))
	return evs, r.Stats
}

// The portal's CSV export of AzureDiagnostics and of AZKVAuditLogs.
func TestReadLogAnalyticsCSV(t *testing.T) {
	diag := "\xEF\xBB\xBFTenantId,TimeGenerated [UTC],ResourceId,Category,ResourceGroup,SubscriptionId,ResourceProvider,Resource,ResourceType,OperationName,ResultType,CorrelationId,ResultSignature,ResultDescription,DurationMs,CallerIPAddress,OperationVersion,identity_claim_oid_g,identity_claim_upn_s,identity_claim_appid_g,identity_claim_idtyp_s,id_s,clientInfo_s,httpStatusCode_d,requestUri_s,isAccessPolicyMatch_b,Type,_ResourceId\n" +
		"72f988bf-86f1-41af-91ab-2d7cd011db47,\"11/20/2026, 9:12:41.091 AM\",/SUBSCRIPTIONS/6A1F/RESOURCEGROUPS/PAY/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-PAY,AuditEvent,PAY,6a1f,MICROSOFT.KEYVAULT,KV-PAY,VAULTS,SecretGet,Success,9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b,Forbidden,\"The user, group or application does not have secrets get permission\",4,185.220.101.47,7.4,e2a4c6d8-1b3d-4f5a-8c9e-0a1b2c3d4e5f,maria@contoso.com,04b07795-8ddb-461a-bbee-02f9e1bf7b46,user,https://kv-pay.vault.azure.net/secrets/db-password,python/3.11,403,https://kv-pay.vault.azure.net/secrets/db-password?api-version=7.4,False,AzureDiagnostics,/subscriptions/6a1f/resourcegroups/pay/providers/microsoft.keyvault/vaults/kv-pay\n"
	evs, st := readString(t, diag)
	if st.Malformed != 0 || len(evs) != 1 {
		t.Fatalf("%d events, problems %v", len(evs), st.Problems)
	}
	// The portal writes times in a locale form the decoder may not read:
	// whichever way, the rest of the record must be right.
	e := evs[0]
	if e.Vault.Name != "kv-pay" || e.Operation.Class != event.ClassRead || e.Result.Outcome != event.OutcomeDenied ||
		e.Caller.UPN != "maria@contoso.com" || e.Object.Name != "db-password" || e.IP.String() != "185.220.101.47" {
		t.Errorf("event: %+v", e)
	}
	if st.Records.Load() != 1 {
		t.Errorf("records %d", st.Records.Load())
	}

	azkv := "TimeGenerated [UTC],OperationName,CallerIpAddress,HttpStatusCode,Identity,Id,ResultSignature,_ResourceId,Type\n" +
		`2026-11-20T09:12:41.0914426Z,SecretList,10.1.2.3,200,"{""claim"":{""oid"":""0d1c2b3a-4958-4677-8695-a4b3c2d1e0f9"",""appid"":""1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b"",""idtyp"":""app""}}",https://kv-pay.vault.azure.net/secrets,OK,/subscriptions/6a1f/resourcegroups/pay/providers/microsoft.keyvault/vaults/kv-pay,AZKVAuditLogs` + "\n" +
		"2026-11-20T09:12:42Z,SecretGet,not enough fields\n"
	evs, st = readString(t, azkv)
	if len(evs) != 1 || st.Malformed != 1 {
		t.Fatalf("%d events, %d malformed: %v", len(evs), st.Malformed, st.Problems)
	}
	e = evs[0]
	if e.Caller.Type != event.IdentityServicePrincipal || e.Caller.AppID != "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b" || e.Operation.Class != event.ClassList || e.Vault.Name != "kv-pay" {
		t.Errorf("event: %+v", e)
	}
	if !strings.Contains(st.Problems[0].String(), "in:3: CSV row has 3 fields, the header 9") {
		t.Errorf("problem: %s", st.Problems[0])
	}
}

// Mixed formats in one stream are sniffed record by record.
func TestReadMixedFormats(t *testing.T) {
	var b bytes.Buffer
	az := testutil.AzureRecords(3, 1)
	v := testutil.VaultEntries(4, 1)
	for i := range 3 {
		b.Write(az[i])
		b.WriteByte('\n')
		if i < 2 {
			b.Write(v[2*i])
			b.WriteByte('\n')
			b.Write(v[2*i+1])
			b.WriteByte('\n')
		}
	}
	b.WriteString(`{"unknown":"format"}` + "\n")
	evs, st := readString(t, b.String())
	if len(evs) != 5 || st.ByFormat[event.FormatAzureKeyVault] != 3 || st.ByFormat[event.FormatVaultAudit] != 4 {
		t.Fatalf("%d events, formats %v", len(evs), st.ByFormat)
	}
	if st.Malformed != 1 || !strings.Contains(st.Problems[0].Reason, "not a record of a known format") || st.Problems[0].Loc.Line != 8 {
		t.Fatalf("problems %v", st.Problems)
	}
}

// A JSON parse error names the problem without quoting the record.
func TestInvalidJSONIsNotQuoted(t *testing.T) {
	_, st := readString(t, `{"time":"2026-11-20T09:00:00Z","password":"s3cr3t-value-123" "x":1}`+"\n"+`{"a":tru3-s3cr3t}`+"\n")
	if st.Malformed != 2 {
		t.Fatalf("malformed %d", st.Malformed)
	}
	for _, p := range st.Problems {
		if strings.Contains(p.Reason, "s3cr3t") || !strings.HasPrefix(p.Reason, "invalid JSON") {
			t.Errorf("problem %q", p)
		}
	}
}

func TestReadChunkLinesAndPairing(t *testing.T) {
	var got []event.Event
	st := NewStream(Formats(), NewStats(), func(e *event.Event) { got = append(got, *e) })
	vault := testutil.VaultEntries(2, 1)
	// A Vault request in one chunk, its response in the next, then a bad line.
	st.ReadChunk("audit.log", 1, append(vault[0], '\n'))
	st.ReadChunk("audit.log", 2, append(append(vault[1], '\n'), []byte("{not json\n")...))
	st.Flush()
	if st.stats.Malformed != 1 || len(st.stats.Problems) != 1 {
		t.Fatalf("malformed = %d, problems %v; want 1", st.stats.Malformed, st.stats.Problems)
	}
	if p := st.stats.Problems[0]; p.Loc.File != "audit.log" || p.Loc.Line != 3 {
		t.Errorf("problem at %s:%d, want audit.log:3", p.Loc.File, p.Loc.Line)
	}
	if len(got) != 1 {
		t.Fatalf("got %d events, want the request and response paired into 1", len(got))
	}
}
