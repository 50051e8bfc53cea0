// Command parse measures how fast vaultwatch reads access logs, on one
// core, and writes a report.
//
//	go run ./bench/parse                 # 500,000 records per case
//	go run ./bench/parse -n 200000 -out /tmp/parse.md
//
// Cases: parse + normalize of records already in memory (the decoder hot
// path), the same from a file's bytes through the record scanner, and the
// whole `vaultwatch scan --events -o jsonl` command on a file on disk.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"vaultwatch/internal/app"
	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

func main() {
	n := flag.Int("n", 500_000, "records per case")
	out := flag.String("out", "bench/PARSE.md", "report file")
	flag.Parse()
	runtime.GOMAXPROCS(1)

	dir, err := os.MkdirTemp("", "vaultwatch-bench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)

	var rows []string
	for _, c := range []struct {
		name string
		gen  func(int, uint64) [][]byte
	}{
		{"Azure Key Vault AuditEvent (PT1H.json lines)", testutil.AzureRecords},
		{"HashiCorp Vault audit device (request+response lines)", testutil.VaultEntries},
	} {
		recs := c.gen(*n, 1)
		var size int
		for _, r := range recs {
			size += len(r) + 1
		}
		path := filepath.Join(dir, strings.Fields(c.name)[0]+".jsonl")
		if err := writeLines(path, recs); err != nil {
			fail(err)
		}
		avg := size / len(recs)

		// 1. Parse + normalize, records in memory.
		events := 0
		st := auditlog.NewStream(auditlog.Formats(), auditlog.NewStats(), func(*event.Event) { events++ })
		loc := event.Location{File: "bench"}
		// Warm the interners and the parser.
		for _, r := range recs[:min(len(recs), 10000)] {
			st.Record(r, loc)
		}
		d, allocs := measure(func() {
			for _, r := range recs {
				st.Record(r, loc)
			}
			st.Flush()
		})
		rows = append(rows, row(c.name, "parse + normalize (in memory)", len(recs), size, d, allocs))
		n := len(recs)
		recs = nil // keep the heap small for the next cases

		// 2. Scanner + parse + normalize from the file's bytes.
		data, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		st2 := auditlog.NewStream(auditlog.Formats(), auditlog.NewStats(), func(*event.Event) {})
		d, allocs = measure(func() {
			if err := st2.ReadAll("bench", bytes.NewReader(data)); err != nil {
				fail(err)
			}
		})
		rows = append(rows, row(c.name, "split + parse + normalize (bytes)", n, size, d, allocs))
		data = nil

		// 3. The whole command, events written as JSON Lines.
		d, allocs = measure(func() {
			err := app.Scan(context.Background(), app.ScanOptions{
				Paths: []string{path}, Events: true, Output: "jsonl",
				Stdout: io.Discard, Stderr: io.Discard,
			})
			if err != nil {
				fail(err)
			}
		})
		rows = append(rows, row(c.name, "`scan --events -o jsonl` (file to JSONL)", n, size, d, allocs))
		fmt.Fprintf(os.Stderr, "%s: %d records, %d bytes on average\n", c.name, n, avg)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# Parse benchmark\n\n")
	fmt.Fprintf(&b, "Made by `go run ./bench/parse -n %d` on %s.\n\n", *n, time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "Machine: %s, %d CPUs (GOMAXPROCS=1 for the run), %s, %s/%s.\n\n", cpuModel(), runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "| format | case | records | MB | seconds | records/s | MB/s | allocs/record |\n|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		b.WriteString(r)
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		fail(err)
	}
	fmt.Print(b.String())
}

func measure(f func()) (time.Duration, uint64) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t := time.Now()
	f()
	d := time.Since(t)
	runtime.ReadMemStats(&m1)
	return d, m1.Mallocs - m0.Mallocs
}

func row(format, what string, n, size int, d time.Duration, allocs uint64) string {
	s := d.Seconds()
	return fmt.Sprintf("| %s | %s | %d | %.1f | %.3f | %.0f | %.1f | %.2f |\n",
		format, what, n, float64(size)/1e6, s, float64(n)/s, float64(size)/1e6/s, float64(allocs)/float64(n))
}

func writeLines(path string, recs [][]byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, r := range recs {
		w.Write(r)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/parse:", err)
	os.Exit(1)
}
