package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
	"vaultwatch/internal/suppress"
)

// BenchmarkAlertsThroughExports stores batches of 1,000 new alerts, each
// matched against 50 suppression rules, and sends them through two exports
// (a JSON Lines file, and OCSF over HTTP to a local receiver), reporting
// alerts per second end to end and the heap after a collection.
func BenchmarkAlertsThroughExports(b *testing.B) {
	dir := b.TempDir()
	st := openStore(b, filepath.Join(dir, "bench.db"))
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer recv.Close()
	cfg, err := ParseServeConfig(fmt.Appendf(nil, `
exports:
  - {name: file, type: file, file: {path: %q}}
  - {name: siem, type: http, format: ocsf, http: {url: %q}}
`, filepath.Join(dir, "out.jsonl"), recv.URL))
	if err != nil {
		b.Fatal(err)
	}
	o, err := newOutbound(st, &cfg, slog.New(slog.DiscardHandler), time.Now, Version)
	if err != nil {
		b.Fatal(err)
	}
	defer o.close()
	var rules []store.Rule
	for i := range 50 {
		rules = append(rules, store.Rule{ID: fmt.Sprintf("r%d", i), Type: alert.UnusualIP, Matchers: []store.Matcher{
			{Field: "ip", Op: "cidr", Value: fmt.Sprintf("10.%d.0.0/16", i)}, {Field: "upn", Op: "=~", Value: ".*@partner-" + fmt.Sprint(i) + `\.example`}},
			Reason: "benign-positive", StartsAt: time.Now().Add(-time.Hour)})
	}
	set, err := suppress.NewSet(rules)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	n := 0
	batch := func() {
		now := time.Now()
		var as []*alert.Alert
		sup := map[string]string{}
		for range 1000 {
			n++
			a, _ := alert.Sample(alert.UnusualIP, now)
			a.ID = fmt.Sprintf("vw-bench-%d", n)
			a.Sample = false
			a.Entities.IPs[0].Address = fmt.Sprintf("10.%d.1.%d", n%100, n%250)
			if r := set.Match(&a, now); r != nil {
				sup[a.ID] = r.ID
			}
			as = append(as, &a)
		}
		if err := st.Commit(ctx, &store.Batch{Alerts: as, Suppressed: sup, Now: now}); err != nil {
			b.Fatal(err)
		}
		for range 1000/feedBatch + 1 {
			for _, e := range o.ex {
				if err := o.export(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	start := time.Now()
	for b.Loop() {
		batch()
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "alerts/s")
	if got := o.Counters().Exported; got < int64(2*n) {
		b.Fatalf("%d records exported, want %d", got, 2*n)
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MiB")
}
