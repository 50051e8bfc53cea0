// Command scan measures `vaultwatch scan` with every detector on Azure Key
// Vault logs, on one core, and writes a report.
//
//	go run ./bench/scan                       # 2 seeds, 21 days, 8 vaults
//	go run ./bench/scan -seeds 1 -runs 5 -out /tmp/scan.md
//
// For each seed it simulates an organisation with Azure Key Vault only (the
// storage account's hourly PT1H.json blobs and Event Hubs captures, as the
// simulation writes them, with its attacks), then scans the logs in this
// process with GOMAXPROCS=1: decoding, every detector, the threat-intel
// lists and the decoys, alerts written as JSON Lines to a discarded
// writer. The logs are read once before timing so that the page cache
// holds them. Each seed is scanned -runs times; the report gives every
// run and the median.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/app"
	"vaultwatch/internal/simulate"
)

// goal is the detection issue's bar: Azure records a second through every
// detector on one core.
const goal = 400_000

type run struct {
	seed    uint64
	records int64
	bytes   int64
	took    time.Duration
	alerts  int
}

func (r run) rate() float64 { return float64(r.records) / r.took.Seconds() }

func main() {
	seeds := flag.Int("seeds", 2, "number of simulated organisations")
	days := flag.Int("days", 21, "simulated days each")
	vaults := flag.Int("vaults", 8, "vaults each")
	runs := flag.Int("runs", 3, "timed scans of each organisation")
	out := flag.String("out", "bench/SCAN.md", "report file")
	flag.Parse()

	tmp, err := os.MkdirTemp("", "vaultwatch-scan-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(tmp)
	ctx := context.Background()
	var all []run
	for seed := uint64(1); seed <= uint64(*seeds); seed++ {
		dir := filepath.Join(tmp, fmt.Sprintf("seed%d", seed))
		fmt.Fprintf(os.Stderr, "seed %d: simulating %d days of %d Azure vaults\n", seed, *days, *vaults)
		err := app.Simulate(ctx, app.SimulateOptions{
			Out: dir, Seed: seed, Vaults: *vaults, Days: *days, Formats: []string{"azure"}, Stdout: io.Discard,
		})
		if err != nil {
			fail(err)
		}
		size, err := warm(filepath.Join(dir, simulate.LogsDir))
		if err != nil {
			fail(err)
		}
		for i := 0; i < *runs; i++ {
			r, err := scanOnce(ctx, dir)
			if err != nil {
				fail(err)
			}
			r.seed, r.bytes = seed, size
			fmt.Fprintf(os.Stderr, "seed %d run %d: %d records in %v: %.0f records/s\n", seed, i+1, r.records, r.took.Round(time.Millisecond), r.rate())
			all = append(all, r)
		}
	}
	if err := os.WriteFile(*out, render(all, *days, *vaults), 0o644); err != nil {
		fail(err)
	}
	fmt.Fprintln(os.Stderr, "wrote", *out)
}

var summaryRecords = regexp.MustCompile(`([0-9,]+) records in`)

// scanOnce scans a simulation's logs on one core and returns the records
// read and the time taken.
func scanOnce(ctx context.Context, dir string) (run, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	var alerts, summary bytes.Buffer
	t0 := time.Now()
	err := app.Scan(ctx, app.ScanOptions{
		Paths:       []string{filepath.Join(dir, simulate.LogsDir)},
		Output:      "jsonl",
		Strict:      true,
		TorLists:    []string{filepath.Join(dir, "intel", "tor-exit-nodes.txt")},
		ThreatIntel: []string{filepath.Join(dir, "intel", "ip-reputation.txt")},
		Decoys:      filepath.Join(dir, simulate.DecoysFile),
		Stdout:      &alerts,
		Stderr:      &summary,
	})
	took := time.Since(t0)
	if err != nil {
		return run{}, fmt.Errorf("%w\n%s", err, summary.String())
	}
	m := summaryRecords.FindStringSubmatch(summary.String())
	if m == nil {
		return run{}, fmt.Errorf("no record count in the scan's summary:\n%s", summary.String())
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
	if err != nil {
		return run{}, err
	}
	return run{records: n, took: took, alerts: bytes.Count(alerts.Bytes(), []byte("\n"))}, nil
}

// warm reads every file under dir once, so that timed scans read from the
// page cache, and returns their total size.
func warm(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, f)
		f.Close()
		total += n
		return err
	})
	return total, err
}

func render(runs []run, days, vaults int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Scan speed: Azure Key Vault logs, every detector, one core\n\n")
	fmt.Fprintf(&b, "Written by `go run ./bench/scan` on %s (%s, %d CPUs, GOMAXPROCS=1 for the scans, %s/%s).\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "Each organisation is `vaultwatch simulate --formats azure` over %d days and %d vaults (hourly PT1H.json blobs and Event Hubs captures, attacks included); "+
		"the scan reads its logs from the page cache with the Tor and reputation lists and the decoys, every detector on, alerts as JSON Lines.\n\n", days, vaults)
	b.WriteString("| seed | records | MB | seconds | records/s | alerts |\n|---:|---:|---:|---:|---:|---:|\n")
	rates := make([]float64, 0, len(runs))
	for _, r := range runs {
		rates = append(rates, r.rate())
		fmt.Fprintf(&b, "| %d | %d | %.0f | %.2f | %.0f | %d |\n", r.seed, r.records, float64(r.bytes)/1e6, r.took.Seconds(), r.rate(), r.alerts)
	}
	slices.Sort(rates)
	med := rates[len(rates)/2]
	verdict := "met"
	if med < goal {
		verdict = "not met"
	}
	fmt.Fprintf(&b, "\nMedian: **%.0f records/s** (%.2f µs a record). Bar: %d records/s: **%s**.\n", med, 1e6/med, goal, verdict)
	b.WriteString("\nWhere the time goes: `vaultwatch scan --cpuprofile cpu.out LOGS` then `go tool pprof -top -cum vaultwatch cpu.out`.\n")
	return []byte(b.String())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/scan:", err)
	os.Exit(1)
}
