package app

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/testutil"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func lines(recs [][]byte) []byte {
	return append(bytes.Join(recs, []byte("\n")), '\n')
}

// runScan runs a scan and returns stdout, stderr and the error.
func runScan(t *testing.T, o ScanOptions) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	o.Stdout, o.Stderr = &out, &errOut
	err := Scan(context.Background(), o)
	return out.String(), errOut.String(), err
}

func TestScanExamples(t *testing.T) {
	root := testutil.Root(t)
	out, summary, err := runScan(t, ScanOptions{Paths: []string{filepath.Join(root, "examples")}, Events: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scanned 2 file(s)", "events: 8", "kv-payments-prod", "kv-payments ", "malformed: 0"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	var n int
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		n++
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("event %d is not JSON: %v", n, err)
		}
		for _, k := range []string{"time", "provider", "vault", "operation", "caller", "result", "source"} {
			if _, ok := e[k]; !ok {
				t.Errorf("event %d lacks %q: %s", n, k, sc.Text())
			}
		}
		v := e["vault"].(map[string]any)
		if v["id"] == "" || v["name"] == "" {
			t.Errorf("event %d: empty vault %v", n, v)
		}
		op := e["operation"].(map[string]any)
		if op["name"] == "" || op["class"] == "" {
			t.Errorf("event %d: empty operation %v", n, op)
		}
		res := e["result"].(map[string]any)
		if res["outcome"] == "" {
			t.Errorf("event %d: no outcome", n)
		}
	}
	if n != 8 {
		t.Fatalf("got %d events, want 8 (5 Azure, 3 Vault pairs)", n)
	}
	// The Azure blob is read first by its time folder, then Vault; the
	// outcomes tell the records apart.
	for _, want := range []string{`"outcome":"denied","status":403`, `"outcome":"not-found","status":404`, `"name":"stripe-api-key"`} {
		if !strings.Contains(out, want) {
			t.Errorf("events lack %s", want)
		}
	}
}

func TestScanBadInput(t *testing.T) {
	dir := t.TempDir()
	az := testutil.AzureRecords(50, 7)
	// A folder of mixed trouble: each file adds a known problem.
	broken := append([][]byte{}, az[:10]...)
	broken = append(broken, []byte(`{"time": "2026-11-20T09:00:00Z", "operationName": "SecretGet", "resourceId": "/SUBSC`)) // cut short
	broken = append(broken, []byte("\xff\xfe not a record"))
	broken = append(broken, []byte(`{"time":"x","category":"AuditEvent","operationName":"SecretGet","resourceId":"/SUBSCRIPTIONS/A/RESOURCEGROUPS/B/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/C","password":"hunter2-should-never-print"`+"\xff"+`"}`))
	broken = append(broken, az[10:20]...)
	writeFile(t, filepath.Join(dir, "a-broken.json"), lines(broken))
	writeFile(t, filepath.Join(dir, "b.json.gz"), gz(t, lines(az[20:50])))
	full := gz(t, lines(az[:20]))
	writeFile(t, filepath.Join(dir, "c-truncated.gz"), full[:len(full)/2])
	writeFile(t, filepath.Join(dir, "d-empty.json"), nil)
	writeFile(t, filepath.Join(dir, "e-binary.bin"), []byte("\x7fELF\x02\x01\x01\x00\x00\x00junk"))
	writeFile(t, filepath.Join(dir, ".hidden", "x.json"), []byte("garbage\n"))

	_, summary, err := runScan(t, ScanOptions{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"a-broken.json:11: record is cut short: a line ends inside a string",
		"a-broken.json:12: line is not a JSON record",
		"a-broken.json:13: invalid UTF-8 at byte",
		"c-truncated.gz: truncated or corrupt gzip stream",
		"note: " + filepath.Join(dir, "d-empty.json") + ": empty file",
		"e-binary.bin: binary data",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	if strings.Contains(summary, "hunter2") || strings.Contains(summary, "garbage") {
		t.Errorf("summary quotes record content:\n%s", summary)
	}
	// 10+10 good records around the bad ones, 30 in b.json.gz, and those
	// of c-truncated.gz before the cut.
	var events int
	for _, l := range strings.Split(summary, "\n") {
		if n, ok := strings.CutPrefix(l, "events: "); ok {
			events, _ = strconv.Atoi(n)
		}
	}
	if events < 50 || events >= 70 {
		t.Errorf("got %d events, want 50 to 69:\n%s", events, summary)
	}

	// --strict fails the same scan.
	_, _, err = runScan(t, ScanOptions{Paths: []string{dir}, Strict: true})
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("strict scan: got %v, want ErrMalformed", err)
	}
}

func TestScanCountsEveryGoodRecord(t *testing.T) {
	dir := t.TempDir()
	az := testutil.AzureRecords(300, 3)
	writeFile(t, filepath.Join(dir, "PT1H.json"), lines(az[:100]))
	writeFile(t, filepath.Join(dir, "eh.json"), []byte(`{"records":[`+string(bytes.Join(az[100:200], []byte(",")))+`]}`))
	writeFile(t, filepath.Join(dir, "more.json.gz"), gz(t, lines(az[200:])))
	out, summary, err := runScan(t, ScanOptions{Paths: []string{dir}, Events: true, Strict: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, summary)
	}
	if got := strings.Count(out, "\n"); got != 300 {
		t.Fatalf("got %d events, want 300\n%s", got, summary)
	}
	if !strings.Contains(summary, "300 records") {
		t.Errorf("summary: %s", summary)
	}
}

func TestScanStdin(t *testing.T) {
	vault := testutil.VaultEntries(20, 1)
	out, summary, err := runScan(t, ScanOptions{Paths: []string{"-"}, Events: true, Stdin: bytes.NewReader(lines(vault))})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out, "\n"); got != 10 {
		t.Fatalf("got %d events from 10 request/response pairs\n%s", got, summary)
	}
	if !strings.Contains(out, `"file":"stdin"`) {
		t.Errorf("events do not name stdin as their source")
	}
}

func TestScanErrors(t *testing.T) {
	if _, _, err := runScan(t, ScanOptions{}); err == nil {
		t.Error("no paths: no error")
	}
	if _, _, err := runScan(t, ScanOptions{Paths: []string{filepath.Join(t.TempDir(), "missing")}}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: got %v", err)
	}
	if _, _, err := runScan(t, ScanOptions{Paths: []string{"-"}, Output: "xml"}); err == nil {
		t.Error("unknown output: no error")
	}
}

// signalWriter closes seen when a progress line is written.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.HasPrefix(p, []byte("progress: ")) {
		w.once.Do(func() { close(w.seen) })
	}
	return w.buf.Write(p)
}

// blockingReader gives its data, then waits for release before EOF: the
// scan is still running when the progress reporter ticks.
type blockingReader struct {
	data    *bytes.Reader
	release chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if r.data.Len() > 0 {
		return r.data.Read(p)
	}
	<-r.release
	return 0, io.EOF
}

func TestScanProgress(t *testing.T) {
	w := &signalWriter{seen: make(chan struct{})}
	in := &blockingReader{data: bytes.NewReader(lines(testutil.AzureRecords(100, 1))), release: w.seen}
	err := Scan(context.Background(), ScanOptions{
		Paths: []string{"-"}, Stdin: in, Stdout: io.Discard, Stderr: w,
		ProgressEvery: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := w.buf.String()
	if !regexp.MustCompile(`(?m)^progress: [0-9,]+ records, [0-9.]+ [KMG]?i?B read, [0-9,]+ records/s$`).MatchString(out) || !strings.Contains(out, "events: 100") {
		t.Errorf("stderr:\n%s", out)
	}
}
