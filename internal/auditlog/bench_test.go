package auditlog

import (
	"bytes"
	"testing"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

func benchStream(b *testing.B, recs [][]byte) {
	st := NewStream(Formats(), NewStats(), func(*event.Event) {})
	loc := event.Location{File: "bench"}
	for _, r := range recs {
		st.Record(r, loc)
	}
	var size int
	for _, r := range recs {
		size += len(r)
	}
	b.SetBytes(int64(size / len(recs)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		st.Record(recs[i%len(recs)], loc)
		i++
	}
}

// BenchmarkStreamAzure is parse + normalize of one ~1.2 KB Azure record.
func BenchmarkStreamAzure(b *testing.B) { benchStream(b, testutil.AzureRecords(4096, 1)) }

// BenchmarkStreamVault is parse + normalize of one Vault audit entry.
func BenchmarkStreamVault(b *testing.B) { benchStream(b, testutil.VaultEntries(4096, 1)) }

// BenchmarkReadAllAzure adds the record scanner: JSON Lines bytes to events.
func BenchmarkReadAllAzure(b *testing.B) {
	recs := testutil.AzureRecords(4096, 1)
	data := append(bytes.Join(recs, []byte("\n")), '\n')
	st := NewStream(Formats(), NewStats(), func(*event.Event) {})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		st.ReadAll("bench", bytes.NewReader(data))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

// BenchmarkScanAzure is the record scanner alone over Azure records, as
// JSON Lines and as one Event Hubs capture (a records wrapper on one line).
func BenchmarkScanAzure(b *testing.B) {
	recs := testutil.AzureRecords(4096, 1)
	for _, bc := range []struct {
		name string
		data []byte
	}{
		{"lines", append(bytes.Join(recs, []byte("\n")), '\n')},
		{"wrapper", append(append([]byte(`{"records":[`), bytes.Join(recs, []byte(","))...), "]}\n"...)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			sc := NewScanner(bytes.NewReader(bc.data), 0)
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				sc.Reset(bytes.NewReader(bc.data))
				n := 0
				for sc.Scan() {
					if sc.Err() != nil {
						b.Fatal(sc.Err())
					}
					n++
				}
				if n != len(recs) {
					b.Fatalf("%d records, want %d", n, len(recs))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
		})
	}
}
