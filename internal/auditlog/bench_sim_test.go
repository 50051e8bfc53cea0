package auditlog_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/event"
	"vaultwatch/internal/simulate"
)

// BenchmarkReadSimulatedAzure reads a simulated organisation's Azure Key
// Vault logs (8 vaults, 7 days: hourly blobs, some as Event Hubs captures),
// held in memory in the order a scan reads them: records come in runs of
// one vault and one caller, as in real logs, which the synthetic
// benchmarks do not have.
func BenchmarkReadSimulatedAzure(b *testing.B) {
	dir := b.TempDir()
	if _, err := simulate.Run(context.Background(), simulate.Options{
		Out: dir, Seed: 1, Vaults: 8, Days: 7, LearningDays: 6, Formats: []simulate.Provider{simulate.Azure},
	}); err != nil {
		b.Fatal(err)
	}
	var files [][]byte
	r := auditlog.NewReader(func(*event.Event) {})
	var records int64
	err := filepath.WalkDir(filepath.Join(dir, simulate.LogsDir), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		files = append(files, data)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	var size int
	for _, f := range files {
		size += len(f)
		r.ReadStream("bench", bytes.NewReader(f))
	}
	records = r.Stats.Records.Load()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range files {
			r.ReadStream("bench", bytes.NewReader(f))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*records), "ns/record")
}
