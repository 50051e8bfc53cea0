package azurekv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// differ decodes records through both readers, each with its own decoder
// kept across records as a stream keeps it, and reports any difference.
type differ struct {
	tree, raw *Decoder
	p         fastjson.Parser
}

func newDiffer() *differ {
	return &differ{tree: NewDecoder(), raw: NewDecoder()}
}

// check decodes rec both ways. It fails t when the raw reader accepts a
// record that fastjson or Detect rejects, emits on declining, or gives
// other events or another error than the tree reader. It reports whether
// the raw reader took the record.
func (df *differ) check(t testing.TB, rec []byte, where string) bool {
	t.Helper()
	loc := event.Location{File: "input.json", Line: 7}
	var rawEvents []event.Event
	ok, rawErr := df.raw.DecodeRaw(rec, loc, func(e *event.Event) { rawEvents = append(rawEvents, *e) })
	if !ok {
		if rawErr != nil || len(rawEvents) != 0 {
			t.Errorf("%s: declined with error %v and %d events", where, rawErr, len(rawEvents))
		}
		return false
	}
	v, err := df.p.ParseBytes(rec)
	if err != nil {
		t.Errorf("%s: raw reader accepted a record fastjson rejects: %v", where, err)
		return true
	}
	if v.Type() != fastjson.TypeObject || !Detect(v) {
		t.Errorf("%s: raw reader accepted a record Detect rejects", where)
		return true
	}
	var treeEvents []event.Event
	treeErr := df.tree.Decode(v, loc, func(e *event.Event) { treeEvents = append(treeEvents, *e) })
	if errText(rawErr) != errText(treeErr) || reflect.TypeOf(rawErr) != reflect.TypeOf(treeErr) {
		t.Errorf("%s: raw reader error %v, tree reader error %v", where, rawErr, treeErr)
	}
	if !reflect.DeepEqual(rawEvents, treeEvents) {
		t.Errorf("%s: events differ:\nraw  %+v\ntree %+v", where, rawEvents, treeEvents)
	}
	return true
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// compact returns rec without white space between tokens.
func compact(t testing.TB, rec []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, rec); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeRawMatchesTree runs every record of the golden cases, as
// written and compacted, the synthetic benchmark records and the real
// samples (when present) through both readers, and checks that the raw
// reader takes the native records.
func TestDecodeRawMatchesTree(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*", "input.json"))
	if err != nil {
		t.Fatal(err)
	}
	df := newDiffer()
	for _, in := range inputs {
		name := filepath.Base(filepath.Dir(in))
		taken := 0
		recs := readRecords(t, in)
		for i, rec := range recs {
			where := fmt.Sprintf("%s record %d", name, i+1)
			if df.check(t, rec, where+" (indented)") {
				taken++
			}
			df.check(t, compact(t, rec), where)
		}
		// Every native case's record is one the raw reader is sure of.
		if strings.HasPrefix(name, "native-") && taken != len(recs) {
			t.Errorf("%s: raw reader took %d of %d records", name, taken, len(recs))
		}
	}

	for i, rec := range testutil.AzureRecords(2000, 3) {
		if !df.check(t, rec, "synthetic") {
			t.Fatalf("synthetic record %d: declined", i)
		}
	}

	dir, ok := samplesDir(t)
	if !ok {
		t.Log("no samples: only the golden and synthetic records were checked")
		return
	}
	n, taken := 0, 0
	if b, err := os.ReadFile(filepath.Join(dir, sampleLines)); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			n++
			if df.check(t, bytes.Clone(sc.Bytes()), sampleLines) {
				taken++
			}
		}
	}
	paths, _ := filepath.Glob(filepath.Join(dir, sampleDir, "*.json"))
	for _, path := range paths {
		n++
		if df.check(t, sampleMessage(t, path), filepath.Base(path)) {
			taken++
		} else {
			t.Logf("%s: declined", filepath.Base(path))
		}
	}
	t.Logf("samples: raw reader took %d of %d records", taken, n)
}

// TestDecodeRawDeclines lists records the raw reader must leave to the
// tree reader, each a small change to a native record, and records it
// takes; both readers must agree on all of them.
func TestDecodeRawDeclines(t *testing.T) {
	base := string(compact(t, readRecords(t, filepath.Join("testdata", "native-secret-get-user", "input.json"))[0]))
	// edit replaces, in the base record, each old text with its new one.
	edit := func(oldNew ...string) string {
		rec := base
		for i := 0; i < len(oldNew); i += 2 {
			if !strings.Contains(rec, oldNew[i]) {
				t.Fatalf("base record has no %q", oldNew[i])
			}
			rec = strings.Replace(rec, oldNew[i], oldNew[i+1], 1)
		}
		return rec
	}
	for _, c := range []struct {
		name string
		rec  string
		take bool
	}{
		{"base", base, true},
		{"white space", " \t" + strings.ReplaceAll(base, ",", " ,\n ") + "\r\n", true},
		{"status as text", edit(`"httpStatusCode":200`, `"httpStatusCode":"403"`), true},
		{"status null", edit(`"httpStatusCode":200`, `"httpStatusCode":null`), true},
		{"status float", edit(`"httpStatusCode":200`, `"httpStatusCode":4.04e2`), true},
		{"status huge", edit(`"httpStatusCode":200`, `"httpStatusCode":1e400`), true},
		{"status negative", edit(`"httpStatusCode":200`, `"httpStatusCode":-0.0E-0`), true},
		{"status object", edit(`"httpStatusCode":200`, `"httpStatusCode":{"a":[1,{}]}`), true},
		{"flag as text", edit(`"isAccessPolicyMatch":true`, `"isAccessPolicyMatch":"FALSE"`), true},
		{"flag false", edit(`"isAccessPolicyMatch":true`, `"isAccessPolicyMatch":false`), true},
		{"claim not a string", edit(`"idtyp":"user"`, `"idtyp":7`), true},
		{"claim twice", edit(`"idtyp":"user"`, `"idtyp":"user","idtyp":"app"`), true},
		{"claim empty", edit(`"idtyp":"user"`, `"idtyp":""`), true},
		{"escape in a skipped value", edit(`"scp":"user_impersonation"`, `"scp":"a\"b\\\\"`), true},
		{"escape in a skipped key", edit(`"xms_az_nwperimid":[]`, `"xms_az_nwperimid":[{"k\u0065y":{"\\":1}}]`), true},
		{"time empty", edit(`"time":"2025-03-14T09:21:37.4417786Z"`, `"time":""`), true},
		{"time malformed", edit(`"time":"2025-03-14T09:21:37.4417786Z"`, `"time":"yesterday"`), true},
		{"no time", edit(`"time":"2025-03-14T09:21:37.4417786Z",`, ``), true},
		{"operation empty", edit(`"operationName":"SecretGet"`, `"operationName":""`), true},
		{"other resource provider", edit(`MICROSOFT.KEYVAULT`, `MICROSOFT.STORAGE`), true},
		{"identity null", edit(`"identity":{"claim":{`, `"identity":null,"x":{"claim":{`), true},
		{"properties null", edit(`"properties":{`, `"properties":null,"x":{`), true},
		{"escaped description, signature", edit(`"resultSignature":"OK"`, `"resultSignature":"Forbidden","resultDescription":"a\nb"`), true},
		{"escaped description, failure, no signature", edit(`"resultSignature":"OK"`, `"resultSignature":" ","resultDescription":"a\nb"`, `"httpStatusCode":200`, `"httpStatusCode":500`), false},
		{"description, failure, no signature", edit(`"resultSignature":"OK"`, `"resultDescription":" Caller is not authorized. "`, `"httpStatusCode":200`, `"httpStatusCode":403`), true},
		{"no category", edit(`"category":"AuditEvent",`, ``), true},
		{"category in other case", edit(`"category":"AuditEvent"`, `"category":"auditevent"`), true},

		{"escape in a read value", edit(`"operationName":"SecretGet"`, `"operationName":"Secret\u0047et"`), false},
		{"escape in a read key", edit(`"operationName":`, `"operation\u004eame":`), false},
		{"escape in a claim name", edit(`"scp":`, `"s\u0063p":`), false},
		{"escape in a claim", edit(`"idtyp":"user"`, `"idtyp":"us\u0065r"`), false},
		{"key twice", edit(`"operationName":"SecretGet"`, `"operationName":"SecretGet","operationName":"SecretSet"`), false},
		{"property twice", edit(`"httpStatusCode":200`, `"httpStatusCode":200,"httpStatusCode":403`), false},
		{"time not a string", edit(`"time":"2025-03-14T09:21:37.4417786Z"`, `"time":1710408097`), false},
		{"other category", edit(`"category":"AuditEvent"`, `"category":"AzurePolicyEvaluationDetails"`), false},
		{"activity", edit(`"category":"AuditEvent"`, `"category":"Administrative"`), false},
		{"column of another shape", edit(`"resultType":`, `"ResultSignature":"OK","resultType":`), false},
		{"flattened claim", edit(`"resultType":`, `"identity_claim_oid_g":"x","resultType":`), false},
		{"other format", edit(`"resultType":`, `"eventSource":"kms.amazonaws.com","resultType":`), false},
		{"identity without claim", edit(`"identity":{"claim":`, `"identity":{"claims":`), false},
		{"no operation", edit(`"operationName":"SecretGet",`, ``), false},
		{"no category nor resource id", strings.Replace(edit(`"category":"AuditEvent",`, ``), `"resourceId"`, `"resourceID"`, 1), false},
		{"NaN", edit(`"httpStatusCode":200`, `"httpStatusCode":NaN`), false},
		{"lenient number", edit(`"httpStatusCode":200`, `"httpStatusCode":2.0.0`), false},
		{"leading zero", edit(`"appidacr":"0"`, `"appidacr":00`), false},
		{"trailing comma", edit(`"tlsVersion":"TLS1_2"}`, `"tlsVersion":"TLS1_2",}`), false},
		{"missing colon", edit(`"resultType":"Success"`, `"resultType" "Success"`), false},
		{"unclosed array", edit(`"xms_az_nwperimid":[]`, `"xms_az_nwperimid":[1`), false},
		{"bad literal", edit(`"isAccessPolicyMatch":true`, `"isAccessPolicyMatch":tru`), false},
		{"data after the record", base + `{}`, false},
		{"control character as white space", edit(`,"category"`, ",\v\"category\""), false},
		{"deep nesting", edit(`"xms_az_nwperimid":[]`, `"xms_az_nwperimid":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)), false},
		{"not an object", `["x"]`, false},
		{"empty object", `{}`, false},
		{"truncated", base[:len(base)/2], false},
	} {
		t.Run(c.name, func(t *testing.T) {
			df := newDiffer()
			if took := df.check(t, []byte(c.rec), c.name); took != c.take {
				t.Errorf("raw reader took it: %v, want %v", took, c.take)
			}
		})
	}
}

// FuzzDecodeRawMatchesTree mutates native records: whenever the raw
// reader takes one, fastjson and Detect must accept it and the tree
// reader must give the same events and error.
func FuzzDecodeRawMatchesTree(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "native-*", "input.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		for _, rec := range readRecords(f, in) {
			f.Add(compact(f, rec))
		}
	}
	for _, rec := range testutil.AzureRecords(20, 5) {
		f.Add(rec)
	}
	if dir, ok := samplesDir(f); ok {
		if b, err := os.ReadFile(filepath.Join(dir, sampleLines)); err == nil {
			for _, line := range bytes.Split(b, []byte("\n")) {
				if len(bytes.TrimSpace(line)) > 0 {
					f.Add(line)
				}
			}
		}
	}
	df := newDiffer()
	f.Fuzz(func(t *testing.T, rec []byte) {
		df.check(t, rec, "fuzz")
	})
}

// TestValueMatchesRecordHelpers checks that value reads numbers and flags
// as record.Int and record.Bool do, which the decoder used before.
func TestValueMatchesRecordHelpers(t *testing.T) {
	var p fastjson.Parser
	for _, in := range []string{
		`403`, `403.0`, `4.04e2`, `-1`, `1e400`, `"403"`, `"403.0"`, `"403.5"`, `"4.5"`, `""`, `"x"`,
		`"99999999999"`, `true`, `false`, `"true"`, `"FALSE"`, `"True "`, `"falſe"`, `null`, `{}`, `[1]`,
	} {
		x, err := p.Parse(`{"k":` + in + `}`)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		v := treeValue(x.Get("k"))
		wantN, wantNOK := record.Int(x, "k")
		if n, ok := v.int(); n != wantN || ok != wantNOK {
			t.Errorf("%s: int() = %d %v, record.Int %d %v", in, n, ok, wantN, wantNOK)
		}
		wantB, wantBOK := record.Bool(x, "k")
		if b, ok := v.bool(); b != wantB || ok != wantBOK {
			t.Errorf("%s: bool() = %v %v, record.Bool %v %v", in, b, ok, wantB, wantBOK)
		}
	}
}
