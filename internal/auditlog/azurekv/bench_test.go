package azurekv

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// BenchmarkDecode measures parsing (fastjson, reused parser) plus decoding
// of a typical data-plane SecretGet record, as the reader runs them.
func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct{ name, file string }{
		{"native", "native-secret-get-user"},
		{"azkvauditlogs-identity-string", "azkvauditlogs-identity-string"},
		{"azurediagnostics", "azurediagnostics-rows"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			raw := readRecords(b, filepath.Join("testdata", bc.file, "input.json"))[0]
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				b.Fatal(err)
			}
			rec := buf.Bytes()
			var p fastjson.Parser
			d := NewDecoder()
			n := 0
			emit := func(*event.Event) { n++ }
			loc := event.Location{File: "PT1H.json"}
			b.SetBytes(int64(len(rec)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				v, err := p.ParseBytes(rec)
				if err != nil {
					b.Fatal(err)
				}
				loc.Line = int64(i + 1)
				if err := d.Decode(v, loc, emit); err != nil {
					b.Fatal(err)
				}
			}
			if n != b.N {
				b.Fatalf("%d events for %d records", n, b.N)
			}
		})
	}
}

// BenchmarkDecodeVaried measures parsing plus decoding of realistic traffic:
// it cycles through varied records (vaults, callers, objects, operations and
// outcomes), so the decoder's memos miss as often as they do on real logs.
func BenchmarkDecodeVaried(b *testing.B) {
	recs := testutil.AzureRecords(4096, 1)
	var p fastjson.Parser
	d := NewDecoder()
	n := 0
	emit := func(*event.Event) { n++ }
	loc := event.Location{File: "PT1H.json"}
	decode := func(rec []byte) {
		v, err := p.ParseBytes(rec)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Decode(v, loc, emit); err != nil {
			b.Fatal(err)
		}
	}
	// One pass first, as a long stream has seen its vaults and callers.
	var size int
	for _, r := range recs {
		decode(r)
		size += len(r)
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	n = 0
	i := 0
	for b.Loop() {
		loc.Line = int64(i + 1)
		decode(recs[i%len(recs)])
		i++
	}
	if n != i {
		b.Fatalf("%d events for %d records", n, i)
	}
}

// BenchmarkDecodeRaw measures the raw reader (DecodeRaw: no tree) on the
// records of BenchmarkDecode/native and BenchmarkDecodeVaried.
func BenchmarkDecodeRaw(b *testing.B) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, readRecords(b, filepath.Join("testdata", "native-secret-get-user", "input.json"))[0]); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		recs [][]byte
	}{
		{"native", [][]byte{buf.Bytes()}},
		{"varied", testutil.AzureRecords(4096, 1)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := NewDecoder()
			n := 0
			emit := func(*event.Event) { n++ }
			loc := event.Location{File: "PT1H.json"}
			decode := func(rec []byte) {
				ok, err := d.DecodeRaw(rec, loc, emit)
				if !ok || err != nil {
					b.Fatalf("DecodeRaw: %v %v", ok, err)
				}
			}
			var size int
			for _, r := range bc.recs {
				decode(r)
				size += len(r)
			}
			b.SetBytes(int64(size / len(bc.recs)))
			b.ReportAllocs()
			n = 0
			i := 0
			for b.Loop() {
				loc.Line = int64(i + 1)
				decode(bc.recs[i%len(bc.recs)])
				i++
			}
			if n != i {
				b.Fatalf("%d events for %d records", n, i)
			}
		})
	}
}
