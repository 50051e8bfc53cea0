package azurekv

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"vaultwatch/internal/testutil"
)

// TestDecodeRawRepeats reads records that repeat, or nearly repeat, the
// identity and properties objects of the records before them, so that the
// raw reader's memory (objmemo.go) is used and must not be fooled: a
// number that only starts like the one remembered, a key written again,
// white space, other orders. Both readers must agree on every record,
// each read once after the record it varies and once after itself.
func TestDecodeRawRepeats(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "native-*", "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bases [][]byte
	for _, in := range inputs {
		for _, rec := range readRecords(t, in) {
			bases = append(bases, compact(t, rec))
		}
	}
	bases = append(bases, testutil.AzureRecords(50, 7)...)
	variants := []struct {
		name     string
		old, new string
	}{
		{"status digits", `"httpStatusCode":200`, `"httpStatusCode":2001`},
		{"status fraction", `"httpStatusCode":200`, `"httpStatusCode":200.5`},
		{"status text", `"httpStatusCode":200`, `"httpStatusCode":"200"`},
		{"status null", `"httpStatusCode":200`, `"httpStatusCode":null`},
		{"flag", `"isAccessPolicyMatch":true`, `"isAccessPolicyMatch":false`},
		{"flag literal", `"isAccessPolicyMatch":true`, `"isAccessPolicyMatch":trueish`},
		{"category", `"category":"AuditEvent"`, `"category":"AuditEvents"`},
		{"category twice", `"category":"AuditEvent",`, `"category":"AuditEvent","category":"AuditEvent",`},
		{"operation twice", `"resultType":"Success",`, `"resultType":"Success","operationName":"SecretList",`},
		{"signature", `"resultSignature":"OK"`, `"resultSignature":"Forbidden"`},
		{"space after comma", `","`, `", "`},
		{"space before colon", `":"`, `" : "`},
		{"claim", `"idtyp":"app"`, `"idtyp":"user"`},
		{"claim twice", `"idtyp":"app"`, `"idtyp":"app","idtyp":"user"`},
		{"claim escaped", `"idtyp":"app"`, `"idtyp":"a\u0070p"`},
		{"identity null", `"identity":{`, `"identity":null,"x":{`},
		{"claim missing", `"claim":{`, `"claims":{`},
		{"client", `"clientInfo":"`, `"clientInfo":"x`},
		{"description", `"resultSignature":"OK"`, `"resultSignature":"OK","resultDescription":"line\nline"`},
		{"properties end", `,"tlsVersion":"TLS1_2"}`, `}`},
		{"properties twice", `"properties":{`, `"properties":{},"properties":{`},
		{"resource id", `"resourceId":"/`, `"resourceId":"//`},
		{"other shape", `"resultType":"Success",`, `"resultType":"Success","Type":"AzureDiagnostics",`},
		{"truncated", `"}`, `"`},
	}
	df := newDiffer()
	n := 0
	for bi, base := range bases {
		for _, v := range variants {
			if !bytes.Contains(base, []byte(v.old)) {
				continue
			}
			for _, all := range []bool{false, true} {
				rec := bytes.Replace(base, []byte(v.old), []byte(v.new), 1)
				if all {
					rec = bytes.ReplaceAll(base, []byte(v.old), []byte(v.new))
				}
				where := fmt.Sprintf("base %d, %s (all %v)", bi, v.name, all)
				df.check(t, base, where+": base")
				df.check(t, rec, where)
				df.check(t, rec, where+": again")
				df.check(t, base, where+": base after")
				n++
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d variants", n)
	}
}

// TestMinuteCache checks that times read after others of the same minute
// are read as parseTime reads them.
func TestMinuteCache(t *testing.T) {
	var mc minuteCache
	for _, s := range []string{
		"2026-10-01T02:01:22.1182171Z",
		"2026-10-01T02:01:22.1342171Z",
		"2026-10-01T02:01:59Z",
		"2026-10-01T02:01:60Z",
		"2026-10-01T02:01:5xZ",
		"2026-10-01T02:01:07.5Z",
		"2026-10-01T02:01:07.Z",
		"2026-10-01T02:01:07.12345678901Z",
		"2026-10-01T02:01:07+01:00",
		"2026-10-01T02:01:07.123+00:00",
		"2026-10-01T02:01",
		"2026-10-01T02:02:00.0000001Z",
		"2026-10-01T02:02:00Z",
		"1969-12-31T23:59:59.5Z",
		"1969-12-31T23:59:01Z",
		"2024-02-29T00:00:01Z",
		"2024-02-29T00:00:02Z",
	} {
		got, gok := mc.parseTime([]byte(s))
		want, wok := parseTime([]byte(s))
		if gok != wok || !got.Equal(want) || got.Location() != want.Location() {
			t.Errorf("%q: minute cache %v %v, parseTime %v %v", s, got, gok, want, wok)
		}
	}
}

// TestDecodeRawObjectsKeepTheirKeys reads records whose properties hold
// the top-level members of the records before them, in every order: the
// keys there are not the record's own, and must not be taken as such.
func TestDecodeRawObjectsKeepTheirKeys(t *testing.T) {
	const (
		rid  = `"resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV"`
		top  = `"category":"AuditEvent","operationName":"SecretGet","resultType":"Success"`
		head = `{"time":"2026-10-01T02:01:22Z","correlationId":"c",`
	)
	recs := []string{
		head + top + `,"properties":{"id":"https://kv.vault.azure.net/secrets/a"},` + rid + `}`,
		head + `"properties":{` + top + `,"id":"https://kv.vault.azure.net/secrets/a"},"operationName":"KeyGet",` + rid + `}`,
		head + `"properties":{` + top + `},` + rid + `}`,
		`{"time":"2026-10-01T02:01:22Z","properties":{` + top + `,"id":"https://kv.vault.azure.net/secrets/a"},"operationName":"KeyGet",` + rid + `}`,
		`{"time":"2026-10-01T02:01:22Z","properties":{` + top + `},` + rid + `}`,
	}
	for first := range recs {
		for second := range recs {
			df := newDiffer()
			for round := 0; round < 2; round++ {
				df.check(t, []byte(recs[first]), fmt.Sprintf("round %d record %d", round, first+1))
				df.check(t, []byte(recs[second]), fmt.Sprintf("round %d record %d after %d", round, second+1, first+1))
			}
		}
	}
}
