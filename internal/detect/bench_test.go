package detect

import (
	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

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

// BenchmarkMemoryPerPair reports the engine's heap per (vault, principal)
// pair: one million pairs (1,000 vaults × 1,000 callers), each seen once
// with a read, and the heap kept after a collection.
func BenchmarkMemoryPerPair(b *testing.B) {
	const vaults, callers = 1000, 1000
	vs := make([]event.Vault, vaults)
	for i := range vs {
		vs[i] = event.Vault{ID: fmt.Sprintf("/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv-%04d", i), Name: fmt.Sprintf("kv-%04d", i)}
	}
	cs := make([]event.Caller, callers)
	for i := range cs {
		cs[i] = event.Caller{Type: event.IdentityServicePrincipal, ObjectID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", i), AppID: fmt.Sprintf("%08d-1111-4000-8000-000000000000", i)}
	}
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		e := New(Config{}, Detectors(), func(*alert.Alert) {})
		ev := event.Event{Provider: event.ProviderAzureKeyVault, Operation: event.Operation{Name: "SecretGet", Class: event.ClassRead},
			Object: event.Object{Kind: event.KindSecret, Name: "db-password"}, Result: event.Result{Outcome: event.OutcomeSuccess, Status: 200},
			IP: netip.MustParseAddr("20.61.14.201")}
		n := 0
		for v := range vaults {
			for c := range callers {
				ev.Time = t0.Add(time.Duration(n) * 4 * time.Second) // a caller comes back to the next vault over an hour later
				ev.Vault, ev.Caller = vs[v], cs[c]
				e.Process(&ev)
				n++
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/float64(vaults*callers), "bytes/pair")
		runtime.KeepAlive(e)
	}
}
