package detect

import (
	"bytes"
	"testing"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// BenchmarkEngineAzure runs every detector over varied Azure events (parsed
// once, outside the loop).
func BenchmarkEngineAzure(b *testing.B) {
	recs := testutil.AzureRecords(20000, 1)
	var evs []event.Event
	r := auditlog.NewReader(func(e *event.Event) { evs = append(evs, *e) })
	r.ReadStream("bench", bytes.NewReader(append(bytes.Join(recs, []byte("\n")), '\n')))
	e := New(Config{}, Detectors(), func(*alert.Alert) {})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := evs[i%len(evs)]
		e.Process(&ev)
		i++
	}
}
