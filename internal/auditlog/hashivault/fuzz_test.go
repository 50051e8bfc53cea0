package hashivault

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// fuzzSamples returns the sample folder, or "" when it is absent: fuzzing
// then runs on the package's own inputs.
func fuzzSamples(f *testing.F) string {
	dir := os.Getenv("VAULTWATCH_SAMPLES")
	if dir == "" {
		dir = filepath.Join(testutil.Root(f), "..", "shared", "samples")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}

// FuzzDecode feeds the records of an input (one per line) to one decoder
// and flushes it. Decoding must never panic, and every event must be
// complete: a UTC time, a vault, an operation, an outcome, and an accessor
// that is HMAC-ed, masked or hashed.
func FuzzDecode(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*", "input.json"))
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if dir := fuzzSamples(f); dir != "" {
		for _, name := range vaultSamples {
			var all [][]byte
			for _, rec := range readRecords(f, filepath.Join(dir, name)) {
				f.Add(rec)
				all = append(all, rec)
			}
			f.Add(bytes.Join(all, []byte("\n")))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p fastjson.Parser
		d := NewDecoder()
		d.max = 4
		decoded := 0
		events := 0
		check := func(e *event.Event) {
			events++
			if e.Time.IsZero() || e.Time.Location() != time.UTC {
				t.Fatalf("time %v", e.Time)
			}
			if e.Provider != event.ProviderHashiCorpVault || e.Format != event.FormatVaultAudit {
				t.Fatalf("provider %q format %q", e.Provider, e.Format)
			}
			if !strings.HasPrefix(e.Vault.ID, "vault:") || e.Operation.Name == "" || e.Operation.Class == "" {
				t.Fatalf("vault %+v operation %+v", e.Vault, e.Operation)
			}
			if e.Result.Outcome == "" || e.Caller.Type == "" {
				t.Fatalf("outcome %q caller type %q", e.Result.Outcome, e.Caller.Type)
			}
			if a := e.Caller.TokenAccessor; a != "" && !strings.HasPrefix(a, hmacPrefix) &&
				!strings.HasPrefix(a, "sha256:") && !masked([]byte(a)) {
				t.Fatalf("accessor kept in clear")
			}
			if (e.Object.Name == "") != (e.Object.Kind == "") {
				t.Fatalf("object %+v", e.Object)
			}
			if _, err := json.Marshal(e); err != nil {
				t.Fatal(err)
			}
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			v, err := p.ParseBytes(line)
			if err != nil || v.Type() != fastjson.TypeObject || !Detect(v) {
				continue
			}
			if err := d.Decode(v, event.Location{Line: int64(i + 1)}, check); err == nil {
				decoded++
			}
			if d.Held() > d.max {
				t.Fatalf("%d requests held, bound %d", d.Held(), d.max)
			}
		}
		d.Flush(check)
		if events > decoded {
			t.Fatalf("%d events from %d entries", events, decoded)
		}
		if d.Held() != 0 {
			t.Fatalf("%d held after flush", d.Held())
		}
	})
}

// FuzzJSONX splits an input with SplitJSONX and converts each piece, and the
// whole input, with JSONX: never a panic, and what converts is a JSON
// object.
func FuzzJSONX(f *testing.F) {
	f.Add([]byte(jsonxEntry))
	f.Add([]byte(`<?xml version="1.0"?>prefix ` + jsonxEntry + jsonxEntry))
	f.Add([]byte(`<json:string name="a">x < y & z</json:string><json:array name="b"><json:null /></json:array>`))
	if dir := fuzzSamples(f); dir != "" {
		data, err := os.ReadFile(filepath.Join(dir, "vault-audit-real-devserver-jsonx.log"))
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		sc.Split(SplitJSONX)
		for n := 0; sc.Scan() && n < 20; n++ {
			f.Add(bytes.Clone(sc.Bytes()))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		convert := func(b []byte) {
			out, err := JSONX(b)
			if err != nil {
				return
			}
			if !json.Valid(out) {
				t.Fatalf("invalid JSON from JSONX: %q", out)
			}
			if len(out) < 2 || out[0] != '{' || out[len(out)-1] != '}' {
				t.Fatalf("not an object: %q", out)
			}
		}
		convert(data)
		for _, atEOF := range []bool{false, true} {
			adv, tok, err := SplitJSONX(data, atEOF)
			if err != nil {
				continue
			}
			if adv < 0 || adv > len(data) || len(tok) > len(data) {
				t.Fatalf("advance %d token %d of %d bytes", adv, len(tok), len(data))
			}
			if atEOF && len(bytes.TrimSpace(data)) > 0 && adv == 0 {
				t.Fatalf("no progress at EOF")
			}
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<20)
		sc.Split(SplitJSONX)
		for sc.Scan() {
			convert(sc.Bytes())
		}
	})
}
