package app

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"vaultwatch/internal/detect"
	"vaultwatch/internal/intel"
	"vaultwatch/internal/source"
	"vaultwatch/internal/store/sqlite"
	"vaultwatch/internal/testutil"
)

// LoadResult is what a load run measured.
type LoadResult struct {
	Rate                      int // events per second offered
	Events, Alerts            int64
	Duration                  time.Duration
	P50, P90, P99, Max        time.Duration // chunk handed over -> its events and alerts committed
	Achieved                  float64       // events per second committed
	Batches                   int64
	AlertLatencyP99, AlertMax time.Duration // event with a Tor address -> its alert committed
}

// LoadTest drives the server's pipeline (decode, every detector, the SQLite
// store) with Azure records at a steady rate for d, in chunks every 10 ms,
// and measures the time from a chunk's arrival to its commit: an alert a
// chunk raises is in the store by then. One record in 500 comes from a Tor
// exit node, so alerts keep being raised and stored. dir holds the store.
func LoadTest(ctx context.Context, dir string, rate int, d time.Duration) (LoadResult, error) {
	st, err := sqlite.Open(filepath.Join(dir, "load.db"), sqlite.Options{})
	if err != nil {
		return LoadResult{}, err
	}
	defer st.Close()
	set := intel.New()
	tor := "203.0.113.66"
	if err := set.AddTor(bytes.NewReader([]byte(tor+"\n")), "load"); err != nil {
		return LoadResult{}, err
	}
	p := newPipeline(nil, st, nil, nil)
	p.engine = detect.New(detect.Config{Intel: set}, detect.Detectors(), p.emitAlert)

	const tick = 10 * time.Millisecond
	perTick := max(rate/int(time.Second/tick), 1)
	recs := testutil.AzureRecords(20000, 3)
	r := rand.New(rand.NewPCG(1, 2))
	in := make(chan source.Chunk, 1024)
	pctx, stop := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- p.run(pctx, in) }()

	type sample struct {
		lat time.Duration
		tor bool
	}
	done := make(chan sample, 1<<16)
	var lats, torLats []time.Duration
	collect := func(s sample) {
		lats = append(lats, s.lat)
		if s.tor {
			torLats = append(torLats, s.lat)
		}
	}
	start := time.Now()
	next := start
	sent, i := 0, 0
	var buf bytes.Buffer
	for time.Since(start) < d {
		buf.Reset()
		hasTor := false
		for range perTick {
			rec := recs[i%len(recs)]
			i++
			if r.IntN(500) == 0 {
				rec = bytes.Replace(rec, []byte(`"callerIpAddress": "`), []byte(`"callerIpAddress": "`+tor+`", "x": "`), 1)
				hasTor = true
			}
			buf.Write(rec)
			buf.WriteByte('\n')
		}
		t0 := time.Now()
		tor := hasTor
		in <- source.Chunk{Source: "load", Origin: "load", Data: bytes.Clone(buf.Bytes()),
			Done: func(source.Result) { done <- sample{time.Since(t0), tor} }}
		sent++
		next = next.Add(tick)
		for {
			select {
			case s := <-done:
				collect(s)
				continue
			default:
			}
			break
		}
		if w := time.Until(next); w > 0 {
			time.Sleep(w)
		}
	}
	for len(lats) < sent {
		select {
		case s := <-done:
			collect(s)
		case <-time.After(30 * time.Second):
			stop()
			return LoadResult{}, fmt.Errorf("load test: %d chunks of %d never committed", sent-len(lats), sent)
		}
	}
	took := time.Since(start)
	stop()
	if err := <-errc; err != nil {
		return LoadResult{}, err
	}
	c := p.Counters()
	res := LoadResult{Rate: rate, Events: c.Events, Alerts: c.Alerts, Duration: took, Batches: c.Batches,
		Achieved: float64(c.Events) / took.Seconds()}
	res.P50, res.P90, res.P99, res.Max = quantiles(lats)
	_, _, res.AlertLatencyP99, res.AlertMax = quantiles(torLats)
	return res, nil
}

func quantiles(xs []time.Duration) (p50, p90, p99, maxv time.Duration) {
	if len(xs) == 0 {
		return
	}
	slices.Sort(xs)
	q := func(f float64) time.Duration { return xs[min(int(f*float64(len(xs))), len(xs)-1)] }
	return q(0.50), q(0.90), q(0.99), xs[len(xs)-1]
}
