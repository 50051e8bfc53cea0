// Package app runs vaultwatch's commands. The binary's main only turns
// flags into options and calls in here, so that tests run every command
// whole, in-process.
package app

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/detect"
	"vaultwatch/internal/event"
	"vaultwatch/internal/intel"
)

// ErrMalformed is returned by Scan with Strict when any record was
// malformed.
var ErrMalformed = errors.New("malformed records found")

// ScanOptions configure Scan.
type ScanOptions struct {
	Paths []string // files, folders, or "-" for Stdin
	// Events writes each normalized event to Stdout, one JSON object per
	// line, instead of detecting.
	Events bool
	// Output is the format of what goes to Stdout: "table" (alerts, the
	// default) or "jsonl" (alerts or, with Events, events: one JSON object
	// a line).
	Output string
	// Strict makes a scan with malformed records fail with ErrMalformed.
	Strict bool
	// Progress prints a progress line to Stderr every ProgressEvery once a
	// scan has run that long. Zero disables it.
	ProgressEvery time.Duration
	// MaxProblems is how many malformed records the summary lists.
	MaxProblems int

	// Detection.
	LearningPeriod time.Duration // default 7 days
	TorLists       []string      // Tor exit-node lists
	ThreatIntel    []string      // IP reputation lists (IP or CIDR a line)
	CloudRanges    []string      // Azure service tags, AWS ip-ranges.json, GCP cloud.json
	GeoIP          []string      // MaxMind-format databases (country, ASN)
	Decoys         string        // decoy secrets file
	Since, Until   time.Time     // report only alerts overlapping this window
	// State is the detection engine's state file: read before the scan
	// when it exists, written (atomically) after it. Alerts still open at
	// the end are reported then and kept open, and the next scan reports
	// them again, under the same id, when they end: scanning day by day
	// with a state gives the alerts of one scan over all the days.
	State string

	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Scan reads every path and prints a summary to Stderr; it writes the
// alerts to Stdout or, with Events, the normalized events.
func Scan(ctx context.Context, o ScanOptions) error {
	if len(o.Paths) == 0 {
		return errors.New("scan: no path given (a file, a folder, or - for standard input)")
	}
	switch o.Output {
	case "":
		o.Output = "table"
		if o.Events {
			o.Output = "jsonl"
		}
	case "jsonl":
	case "table":
		if o.Events {
			return errors.New("scan: --events writes JSON Lines only (-o jsonl)")
		}
	default:
		return fmt.Errorf("scan: unknown output format %q (want table or jsonl)", o.Output)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = 10
	}
	if o.State != "" {
		if o.Events {
			return usageErr("scan: --state keeps the detection engine's state: it has no use with --events")
		}
		if fi, err := os.Stat(filepath.Dir(o.State)); err != nil || !fi.IsDir() {
			return fmt.Errorf("scan: --state %s: its folder does not exist", o.State)
		}
	}
	out := bufio.NewWriterSize(o.Stdout, 256<<10)
	var buf []byte
	var werr error
	var emit func(*event.Event)
	var engine *detect.Engine
	var handle func(*alert.Alert)
	var alerts []alert.Alert
	var nAlerts, nOpen int64 // alerts handed out, and of them still open
	var before detect.Stats  // the engine's counters from the state
	stateLoaded := false
	if o.Events {
		buf = make([]byte, 0, 4096)
		emit = func(e *event.Event) {
			if werr != nil {
				return
			}
			buf = e.AppendJSON(buf[:0])
			buf = append(buf, '\n')
			_, werr = out.Write(buf)
		}
	} else {
		cfg, err := o.detectConfig()
		if err != nil {
			return err
		}
		handle = func(a *alert.Alert) {
			nAlerts++
			if o.Output == "table" {
				alerts = append(alerts, *a)
				return
			}
			if werr != nil {
				return
			}
			b, err := json.Marshal(a)
			if err != nil {
				werr = err
				return
			}
			_, werr = out.Write(append(b, '\n'))
		}
		engine = detect.New(cfg, detect.Detectors(), handle)
		emit = engine.Process
		if o.State != "" {
			if stateLoaded, err = loadState(engine, o.State); err != nil {
				return fmt.Errorf("scan: --state %w", err)
			}
			before = engine.Stats
		}
	}
	r := auditlog.NewReader(emit)
	if o.Stdin != nil {
		r.Stdin = o.Stdin
	}
	start := o.Now()
	stop := o.progress(ctx, r.Stats, start)
	err := r.ReadPaths(ctx, o.Paths)
	if engine != nil && err == nil {
		if o.State != "" {
			n := nAlerts
			engine.Checkpoint(handle)
			nOpen = nAlerts - n
		} else {
			engine.Flush()
		}
	}
	stop()
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	if engine != nil && o.Output == "table" && werr == nil {
		if len(alerts) == 0 {
			_, werr = fmt.Fprintln(out, "no alerts")
		} else {
			werr = alert.WriteTable(out, alerts)
		}
	}
	if werr == nil {
		werr = out.Flush()
	}
	if werr != nil {
		return fmt.Errorf("scan: writing output: %w", werr)
	}
	// The state is saved once the alerts are out: a scan that failed to
	// report them leaves the old state, to be run again.
	var stateSize int64
	if o.State != "" {
		if stateSize, err = saveState(engine, o.State); err != nil {
			return fmt.Errorf("scan: --state %s: %w", o.State, err)
		}
	}
	writeSummary(o.Stderr, r.Stats, o.Now().Sub(start), o.MaxProblems)
	switch {
	case o.State != "":
		fmt.Fprintf(o.Stderr, "alerts: %s (from %s findings), %s of them still open: reported again when they end\n",
			thousands(nAlerts), thousands(engine.Stats.Findings-before.Findings), thousands(nOpen))
		from := "new"
		if stateLoaded {
			from = fmt.Sprintf("continued from %s events before", thousands(before.Events))
		}
		fmt.Fprintf(o.Stderr, "state: %s, %s, saved to %s\n", from, bytesize(stateSize), o.State)
	case engine != nil:
		fmt.Fprintf(o.Stderr, "alerts: %s (from %s findings)\n", thousands(engine.Stats.Alerts), thousands(engine.Stats.Findings))
	}
	if o.Strict && r.Stats.Malformed > 0 {
		return fmt.Errorf("scan: %d %w (--strict)", r.Stats.Malformed, ErrMalformed)
	}
	return nil
}

// detectConfig loads the threat intelligence and decoys the options name.
func (o ScanOptions) detectConfig() (detect.Config, error) {
	cfg := detect.Config{LearningPeriod: o.LearningPeriod, Since: o.Since, Until: o.Until}
	if len(o.TorLists)+len(o.ThreatIntel)+len(o.CloudRanges)+len(o.GeoIP) > 0 {
		set := intel.New()
		for _, l := range []struct {
			kind  string
			paths []string
		}{{"tor", o.TorLists}, {"list", o.ThreatIntel}, {"cloud", o.CloudRanges}, {intel.KindGeoIP, o.GeoIP}} {
			for _, p := range l.paths {
				if err := set.LoadFile(p, l.kind); err != nil {
					return cfg, fmt.Errorf("scan: %w", err)
				}
			}
		}
		cfg.Intel = set
	}
	if o.Decoys != "" {
		f, err := os.Open(o.Decoys)
		if err != nil {
			return cfg, fmt.Errorf("scan: %w", err)
		}
		defer f.Close()
		d, err := detect.ParseDecoys(f, o.Decoys)
		if err != nil {
			return cfg, fmt.Errorf("scan: %w", err)
		}
		cfg.Decoys = d
	}
	return cfg, nil
}

// progress starts the progress reporter and returns its stop function.
func (o ScanOptions) progress(ctx context.Context, st *auditlog.Stats, start time.Time) func() {
	if o.ProgressEvery <= 0 || o.Stderr == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(o.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				el := o.Now().Sub(start)
				n := st.Records.Load()
				fmt.Fprintf(o.Stderr, "progress: %s records, %s read, %s records/s\n",
					thousands(n), bytesize(st.Bytes.Load()), thousands(int64(float64(n)/el.Seconds())))
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

func writeSummary(w io.Writer, st *auditlog.Stats, took time.Duration, maxProblems int) {
	recs := st.Records.Load()
	rate := ""
	if s := took.Seconds(); s > 0 {
		rate = fmt.Sprintf(" (%s records/s)", thousands(int64(float64(recs)/s)))
	}
	fmt.Fprintf(w, "scanned %d file(s), %s, %s records in %s%s\n",
		st.Files, bytesize(st.Bytes.Load()), thousands(recs), took.Round(time.Millisecond), rate)
	fmt.Fprintf(w, "events: %s\n", thousands(st.Events))
	if st.NoTime > 0 {
		fmt.Fprintf(w, "  %s of them without a time in the log: given the time of the event before them\n", thousands(st.NoTime))
	}
	if len(st.ByFormat) > 0 {
		fmt.Fprintln(w, "records per format:")
		for _, f := range slices.Sorted(maps.Keys(st.ByFormat)) {
			fmt.Fprintf(w, "  %-28s %12s\n", f, thousands(st.ByFormat[f]))
		}
	}
	if len(st.ByVault) > 0 {
		fmt.Fprintln(w, "events per vault:")
		vaults := slices.SortedFunc(maps.Keys(st.ByVault), func(a, b event.Vault) int {
			return cmp.Or(cmp.Compare(st.ByVault[b], st.ByVault[a]), strings.Compare(a.ID, b.ID))
		})
		const maxVaults = 50
		for i, v := range vaults {
			if i == maxVaults {
				fmt.Fprintf(w, "  ... and %d more vaults\n", len(vaults)-maxVaults)
				break
			}
			fmt.Fprintf(w, "  %-28s %12s  %s\n", v.Name, thousands(st.ByVault[v]), v.ID)
		}
	}
	if n := st.SkippedTotal(); n > 0 {
		fmt.Fprintf(w, "skipped (not vault access): %s\n", thousands(n))
		for _, k := range slices.Sorted(maps.Keys(st.Skipped)) {
			fmt.Fprintf(w, "  %-40s %12s\n", k, thousands(st.Skipped[k]))
		}
	}
	fmt.Fprintf(w, "malformed: %s\n", thousands(st.Malformed))
	for i, p := range st.Problems {
		if i == maxProblems {
			fmt.Fprintf(w, "  ... %s more\n", thousands(st.Malformed-int64(maxProblems)))
			break
		}
		fmt.Fprintf(w, "  %s\n", p)
	}
	for _, p := range st.Notes {
		fmt.Fprintf(w, "note: %s\n", p)
	}
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func bytesize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// loadState reads the engine's state from path; a file that does not exist
// is a first scan.
func loadState(e *detect.Engine, path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := e.LoadState(bufio.NewReaderSize(f, 1<<20)); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// saveState writes the engine's state to path atomically: to a new file
// beside it, synced, then renamed over it, so that a crash leaves the old
// state or the new one, never half of one. It returns the state's size.
func saveState(e *detect.Engine, path string) (size int64, err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	cw := &countingWriter{w: bw}
	if err := e.SaveState(cw); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return 0, err
	}
	// Make the rename itself durable; a folder that cannot be synced (on
	// some systems) still holds the renamed file.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return cw.n, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
