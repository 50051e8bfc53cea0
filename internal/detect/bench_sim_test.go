package detect_test

import (
	"context"
	"path/filepath"
	"testing"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/detect"
	"vaultwatch/internal/event"
	"vaultwatch/internal/simulate"
)

// BenchmarkEngineSimulated runs every detector over a simulated
// organisation's Azure Key Vault events in time order (8 vaults, 14 days,
// parsed once, outside the timing): the per-event cost on realistic
// traffic, where callers use a few vaults each. One iteration is the whole
// stream through a fresh engine; ns/event is the figure to read.
func BenchmarkEngineSimulated(b *testing.B) {
	dir := b.TempDir()
	_, err := simulate.Run(context.Background(), simulate.Options{
		Out: dir, Seed: 1, Vaults: 8, Days: 14, Formats: []simulate.Provider{simulate.Azure},
	})
	if err != nil {
		b.Fatal(err)
	}
	var evs []event.Event
	r := auditlog.NewReader(func(e *event.Event) { evs = append(evs, *e) })
	if err := r.ReadPaths(context.Background(), []string{filepath.Join(dir, simulate.LogsDir)}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var ev event.Event // one copy, reused as the reader reuses its event
	for b.Loop() {
		e := detect.New(detect.Config{}, detect.Detectors(), func(*alert.Alert) {})
		for i := range evs {
			ev = evs[i]
			e.Process(&ev)
		}
		e.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
	b.ReportMetric(float64(len(evs)), "events")
}
