package exports

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exporttest"
	"vaultwatch/internal/export/filesink"
	"vaultwatch/internal/export/httpsink"
)

// BenchmarkTwoExports sends batches of 100 records through two exports, a
// file (native JSON, every record) and an HTTP endpoint (OCSF, medium and
// above), as the export loop would: filter, then Send. Memory stays
// bounded by the batch: B/op is per batch of 100.
func BenchmarkTwoExports(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	file, err := filesink.New(filesink.Config{Name: "archive", Path: filepath.Join(b.TempDir(), "a.jsonl"), MaxSize: 32 << 20, MaxFiles: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer file.Close()
	web, err := httpsink.New(httpsink.Config{Name: "siem", URL: srv.URL, Format: export.OCSF{}, HMACKey: "k"})
	if err != nil {
		b.Fatal(err)
	}
	defer web.Close()
	exports := []Export{
		{Name: "archive", Sink: file},
		{Name: "siem", Sink: web, Filter: export.Filter{Severities: []string{"medium"}}},
	}
	recs := exporttest.Stream(100)
	batch := make([]export.Record, 0, len(recs))
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, ex := range exports {
			batch = batch[:0]
			for i := range recs {
				if ex.Filter.Match(recs[i]) {
					batch = append(batch, recs[i])
				}
			}
			if err := ex.Sink.Send(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		n += len(recs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
