package file

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/source"
)

const wait = 10 * time.Second

// harness runs a Tail against a pipeline played by the test: it receives
// chunks, and commits their cursors (calls Done) when asked to.
type harness struct {
	tail      *Tail
	out       chan source.Chunk
	cancel    context.CancelFunc
	errc      chan error
	committed map[string]string
	got       map[string]*bytes.Buffer // data per origin, as committed
	order     []string                 // origins in the order of their first chunk
}

func newHarness(t *testing.T, cfg Config, cursors map[string]string, setup ...func(*Tail)) *harness {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "files"
	}
	if cfg.Poll == 0 {
		cfg.Poll = 5 * time.Millisecond
	}
	if cfg.Settle == 0 {
		cfg.Settle = time.Hour
	}
	tail, err := New(cfg, cursors)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range setup {
		f(tail)
	}
	h := &harness{
		tail:      tail,
		out:       make(chan source.Chunk),
		committed: map[string]string{},
		got:       map[string]*bytes.Buffer{},
	}
	for k, v := range cursors {
		h.committed[k] = v
	}
	h.start(t)
	return h
}

func (h *harness) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.errc = make(chan error, 1)
	go func() { h.errc <- h.tail.Run(ctx, h.out) }()
	t.Cleanup(func() { h.stop(t) })
}

// stop cancels the run and waits for Run to return nil.
func (h *harness) stop(t *testing.T) {
	t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.errc:
		if err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after cancel")
	}
}

// next receives one chunk, failing the test past the deadline.
func (h *harness) next(t *testing.T) source.Chunk {
	t.Helper()
	select {
	case c := <-h.out:
		return c
	case err := <-h.errc:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(wait):
		t.Fatal("no chunk within the deadline")
	}
	return source.Chunk{}
}

// commit plays the pipeline storing c.
func (h *harness) commit(c source.Chunk) {
	if h.got[c.Origin] == nil {
		h.got[c.Origin] = &bytes.Buffer{}
		h.order = append(h.order, c.Origin)
	}
	h.got[c.Origin].Write(c.Data)
	h.committed[c.Cursor.Key] = c.Cursor.Value
	c.Done(source.Result{})
}

// collect receives and commits chunks until origin holds n bytes.
func (h *harness) collect(t *testing.T, origin string, n int) string {
	t.Helper()
	for h.got[origin] == nil || h.got[origin].Len() < n {
		c := h.next(t)
		checkChunk(t, c)
		h.commit(c)
	}
	return h.got[origin].String()
}

func checkChunk(t *testing.T, c source.Chunk) {
	t.Helper()
	if c.Source != "files" || c.Origin == "" || c.Line < 1 || c.Cursor.Key == "" || c.Cursor.Value == "" || c.Done == nil {
		t.Fatalf("bad chunk %+v", c)
	}
	if len(c.Data) > 0 && !strings.HasSuffix(string(c.Data), "\n") && !strings.HasSuffix(string(c.Data), "}") {
		t.Fatalf("chunk of %s ends inside a line: %q", c.Origin, c.Data)
	}
}

func lines(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "{\"n\":%d,\"pad\":\"%s\"}\n", i, strings.Repeat("x", i%37))
	}
	return b.String()
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, path, data string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		cursors map[string]string
		want    string
	}{
		{"no name", Config{Paths: []string{"x"}}, nil, "no name"},
		{"no paths", Config{Name: "f"}, nil, "no paths"},
		{"bad include", Config{Name: "f", Paths: []string{"x"}, Include: "[x"}, nil, "include"},
		{"negative", Config{Name: "f", Paths: []string{"x"}, Poll: -1}, nil, "negative"},
		{"bad cursor", Config{Name: "f", Paths: []string{"x"}}, map[string]string{"1:2": "{"}, "cursor"},
		{"cursor out of range", Config{Name: "f", Paths: []string{"x"}}, map[string]string{"1:2": `{"offset":-4}`}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, tt.cursors)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error about %q", err, tt.want)
			}
		})
	}
}

func TestAppendWhileRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	write(t, path, lines(1, 3))
	h := newHarness(t, Config{Paths: []string{path}}, nil)
	c := h.next(t)
	if c.Line != 1 || string(c.Data) != lines(1, 3) || c.Origin != path {
		t.Fatalf("first chunk: line %d origin %s data %q", c.Line, c.Origin, c.Data)
	}
	h.commit(c)
	appendTo(t, path, lines(4, 5))
	c = h.next(t)
	if c.Line != 4 || string(c.Data) != lines(4, 5) {
		t.Fatalf("second chunk: line %d data %q", c.Line, c.Data)
	}
	h.commit(c)
	waitFor(t, func() bool { return h.tail.Status().Records == 5 })
	st := h.tail.Status()
	if st.Name != "files" || st.Kind != "file" || st.Unit != "bytes" || st.Records != 5 || st.Bytes != int64(len(lines(1, 5))) || st.LastRead.IsZero() {
		t.Errorf("status %+v", st)
	}
}

func TestPartialLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	write(t, path, `{"a":1}`+"\n"+`{"b":`)
	h := newHarness(t, Config{Paths: []string{path}, Settle: 20 * time.Millisecond}, nil)
	c := h.next(t)
	if string(c.Data) != `{"a":1}`+"\n" {
		t.Fatalf("got %q, want the whole first line only", c.Data)
	}
	h.commit(c)
	// The partial line is not sent even once it has settled (it does not
	// close a record): the next chunk holds it whole.
	appendTo(t, path, `2}`+"\n")
	c = h.next(t)
	if string(c.Data) != `{"b":2}`+"\n" || c.Line != 2 {
		t.Fatalf("got line %d %q, want the completed second line", c.Line, c.Data)
	}
	h.commit(c)
	// A last line without a newline that closes a record is complete
	// once the file has been quiet for Settle.
	appendTo(t, path, `{"c":3}`)
	c = h.next(t)
	if string(c.Data) != `{"c":3}` || c.Line != 3 {
		t.Fatalf("got line %d %q, want the settled last line", c.Line, c.Data)
	}
	h.commit(c)
	appendTo(t, path, "\n"+`{"d":4}`+"\n")
	c = h.next(t)
	if string(c.Data) != "\n"+`{"d":4}`+"\n" || c.Line != 3 {
		t.Fatalf("got line %d %q", c.Line, c.Data)
	}
	h.commit(c)
}

func TestPrettyPrintedRecordsStayWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pretty.json")
	var want strings.Builder
	for i := range 20 {
		fmt.Fprintf(&want, "{\n  \"n\": %d,\n  \"inner\": {\n    \"a\": [1, 2]\n  }\n}\n", i)
	}
	write(t, path, want.String())
	h := newHarness(t, Config{Paths: []string{path}, MaxChunk: 100}, nil)
	for h.got[path] == nil || h.got[path].Len() < want.Len() {
		c := h.next(t)
		if !bytes.HasPrefix(c.Data, []byte("{\n")) || !bytes.HasSuffix(c.Data, []byte("\n}\n")) {
			t.Fatalf("chunk at line %d splits a record: %q", c.Line, c.Data)
		}
		h.commit(c)
	}
	if h.got[path].String() != want.String() {
		t.Fatal("data differs")
	}
}

func TestRotationByRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	write(t, path, lines(1, 2))
	h := newHarness(t, Config{Paths: []string{path}}, nil)
	h.collect(t, path, len(lines(1, 2)))

	// The writer still holds the old file: it writes after the rename,
	// before it reopens the path.
	old, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	old.WriteString(lines(3, 4))
	rotated := filepath.Join(dir, "audit.log.1")
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	old.WriteString(lines(5, 6))
	write(t, path, lines(101, 102))

	var oldData, newData string
	for len(oldData) < len(lines(3, 6)) || len(newData) < len(lines(101, 102)) {
		c := h.next(t)
		checkChunk(t, c)
		// Whatever the old file still held comes before the new
		// file's first line, unless written after the new file was read.
		if c.Line == 1 && len(oldData) < len(lines(3, 4)) {
			t.Fatalf("new file read before the old one was finished (old so far %q)", oldData)
		}
		if c.Line >= 3 {
			oldData += string(c.Data)
		} else {
			newData += string(c.Data)
			if c.Origin != path {
				t.Errorf("new file's origin %s", c.Origin)
			}
		}
		h.commit(c)
	}
	if oldData != lines(3, 6) || newData != lines(101, 102) {
		t.Fatalf("old %q new %q", oldData, newData)
	}
}

func TestTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	write(t, path, lines(1, 5))
	h := newHarness(t, Config{Paths: []string{path}}, nil)
	h.collect(t, path, len(lines(1, 5)))
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, lines(7, 7))
	c := h.next(t)
	if c.Line != 1 || string(c.Data) != lines(7, 7) {
		t.Fatalf("after truncation: line %d %q", c.Line, c.Data)
	}
	h.commit(c)
	if n := h.tail.Truncations(); n != 1 {
		t.Errorf("truncations %d, want 1", n)
	}
}

func TestReplacedWhileStopped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	write(t, path, lines(1, 3))
	h := newHarness(t, Config{Paths: []string{path}}, nil)
	h.collect(t, path, len(lines(1, 3)))
	h.stop(t)
	// Rewritten in place (same inode) with other, longer content.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(lines(200, 210))
	f.Close()
	h2 := newHarness(t, Config{Paths: []string{path}}, h.committed)
	c := h2.next(t)
	if c.Line != 1 || !strings.HasPrefix(string(c.Data), lines(200, 200)) {
		t.Fatalf("replaced file not read from its start: line %d", c.Line)
	}
	h2.commit(c)
}

func TestGzip(t *testing.T) {
	dir := t.TempDir()
	gz := filepath.Join(dir, "old", "audit.log.gz")
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(lines(1, 300)))
	zw.Close()
	write(t, gz, zb.String())

	h := newHarness(t, Config{Paths: []string{dir}, MaxChunk: 1000}, nil)
	var lastValue string
	next := 1
	for h.got[gz] == nil || h.got[gz].Len() < len(lines(1, 300)) {
		c := h.next(t)
		checkChunk(t, c)
		if c.Line != next {
			t.Fatalf("chunk at line %d, want %d", c.Line, next)
		}
		next += bytes.Count(c.Data, []byte{'\n'})
		lastValue = c.Cursor.Value
		h.commit(c)
	}
	if h.got[gz].String() != lines(1, 300) {
		t.Fatal("gzip data differs")
	}
	if p, _ := decodePosition(lastValue); !p.Done || !p.Gzip {
		t.Fatalf("last cursor %s, want done", lastValue)
	}
	h.stop(t)

	// A restart does not read it again: a file written after it is the
	// next thing sent.
	h2 := newHarness(t, Config{Paths: []string{dir}}, h.committed)
	sentinel := filepath.Join(dir, "new.log")
	write(t, sentinel, lines(1, 1))
	c := h2.next(t)
	if c.Origin != sentinel {
		t.Fatalf("after restart got a chunk of %s first", c.Origin)
	}
	h2.commit(c)
}

func TestCorruptGzip(t *testing.T) {
	dir := t.TempDir()
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write([]byte(lines(1, 2000)))
	zw.Close()
	gz := filepath.Join(dir, "cut.gz")
	write(t, gz, zb.String()[:zb.Len()/2])
	h := newHarness(t, Config{Paths: []string{dir}}, nil)
	var got string
	for {
		c := h.next(t)
		got += string(c.Data)
		h.commit(c)
		if p, _ := decodePosition(c.Cursor.Value); p.Done {
			break
		}
	}
	if got == "" || !strings.HasPrefix(lines(1, 2000), got[:strings.LastIndexByte(got, '\n')+1]) {
		t.Fatalf("the records before the damage were not read whole")
	}
	if st := h.tail.Status(); st.Errors != 1 || !strings.Contains(st.LastError, "corrupt gzip") {
		t.Fatalf("status %+v", st)
	}
}

func TestFolderNewFiles(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, Config{Paths: []string{dir}, Include: "*.json"}, nil)
	a := filepath.Join(dir, "a.json")
	write(t, filepath.Join(dir, ".hidden.json"), lines(1, 1))
	write(t, filepath.Join(dir, ".git", "x.json"), lines(1, 1))
	write(t, filepath.Join(dir, "notes.txt"), lines(1, 1))
	write(t, a, lines(1, 2))
	if got := h.collect(t, a, len(lines(1, 2))); got != lines(1, 2) {
		t.Fatalf("a: %q", got)
	}
	b := filepath.Join(dir, "sub", "deeper", "b.json")
	write(t, b, lines(3, 4))
	if got := h.collect(t, b, len(lines(3, 4))); got != lines(3, 4) {
		t.Fatalf("b: %q", got)
	}
	if len(h.got) != 2 {
		t.Fatalf("read %v, want a.json and b.json only", h.order)
	}
}

func TestMissingPathAppears(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vault", "audit.log")
	h := newHarness(t, Config{Paths: []string{path}}, nil)
	waitFor(t, func() bool { return h.tail.Status().Errors > 0 })
	write(t, path, lines(1, 1))
	h.collect(t, path, len(lines(1, 1)))
	if st := h.tail.Status(); st.Errors != 1 || !strings.Contains(st.LastError, "no such file") {
		t.Errorf("status %+v, want the missing path reported once", st)
	}
}

func TestOrdering(t *testing.T) {
	dir := t.TempDir()
	blob := func(h int) string {
		return filepath.Join(dir, "resourceId=", "SUBSCRIPTIONS", "S", "VAULTS", "KV", "y=2026", "m=11", "d=20", fmt.Sprintf("h=%02d", h), "m=00", "PT1H.json")
	}
	for _, hour := range []int{11, 9, 10} {
		write(t, blob(hour), lines(hour, hour))
	}
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for i, name := range []string{"c.log", "a.log", "b.log"} {
		p := filepath.Join(dir, "plain", name)
		write(t, p, lines(i, i))
		mt := base.Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	h := newHarness(t, Config{Paths: []string{filepath.Join(dir, "plain"), dir}}, nil)
	want := []string{
		filepath.Join(dir, "plain", "c.log"), filepath.Join(dir, "plain", "a.log"), filepath.Join(dir, "plain", "b.log"),
		blob(9), blob(10), blob(11),
	}
	for _, w := range want {
		c := h.next(t)
		if c.Origin != w {
			t.Fatalf("got %s, want %s", c.Origin, w)
		}
		h.commit(c)
	}
}

func TestManyFiles(t *testing.T) {
	dir := t.TempDir()
	const n = 60
	h := newHarness(t, Config{Paths: []string{dir}}, nil, func(t *Tail) { t.maxOpen = 8 })
	path := func(i int) string { return filepath.Join(dir, fmt.Sprintf("f%02d.log", i)) }
	for i := range n {
		write(t, path(i), lines(1, i+1))
	}
	for i := range n {
		h.collect(t, path(i), len(lines(1, i+1)))
	}
	for i := range n {
		appendTo(t, path(i), lines(i+2, i+3))
	}
	for i := range n {
		if got := h.collect(t, path(i), len(lines(1, i+3))); got != lines(1, i+3) {
			t.Fatalf("%s: %q", path(i), got)
		}
	}
}

// TestRestartMidFile kills the tail (cancels it) again and again while it
// reads a file in small chunks, the pipeline storing only some of the
// chunks sent: every line arrives stored exactly once.
func TestRestartMidFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	want := lines(1, 400)
	write(t, path, want)
	cfg := Config{Paths: []string{dir}, MaxChunk: 300}
	var stored strings.Builder
	cursors := map[string]string{}
	line := 1
	for round := 0; stored.Len() < len(want); round++ {
		if round > 100 {
			t.Fatal("no progress")
		}
		h := newHarness(t, cfg, cursors)
		// Store round%3+1 chunks, then receive one more the pipeline
		// never stores, then kill the tail.
		for range round%3 + 1 {
			if stored.Len() == len(want) {
				break
			}
			c := h.next(t)
			if c.Line != line {
				t.Fatalf("round %d: chunk at line %d, want %d", round, c.Line, line)
			}
			line += bytes.Count(c.Data, []byte{'\n'})
			stored.Write(c.Data)
			cursors[c.Cursor.Key] = c.Cursor.Value
			c.Done(source.Result{})
		}
		if stored.Len() < len(want) {
			h.next(t) // lost with the process
		}
		h.stop(t)
		// Appending while stopped is read after the restart.
		if round == 3 {
			appendTo(t, path, lines(401, 410))
			want += lines(401, 410)
		}
	}
	if stored.String() != want {
		t.Fatalf("stored data differs from the file:\n%d bytes stored, %d in the file", stored.Len(), len(want))
	}
}

// TestStoreFailure: a chunk the pipeline could not store stops the run, and
// the next run sends it again.
func TestStoreFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	write(t, path, lines(1, 2))
	h := newHarness(t, Config{Paths: []string{path}}, nil)
	h.commit(h.next(t))
	appendTo(t, path, lines(3, 4))
	c := h.next(t)
	c.Done(source.Result{Err: errors.New("disk full")})
	select {
	case err := <-h.errc:
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not stop after a refused chunk")
	}
	h.cancel = nil
	h.start(t)
	c = h.next(t)
	if c.Line != 3 || string(c.Data) != lines(3, 4) {
		t.Fatalf("after restart: line %d %q", c.Line, c.Data)
	}
	h.commit(c)
	if st := h.tail.Status(); st.Errors != 1 || !strings.Contains(st.LastError, "not stored") {
		t.Errorf("status %+v", st)
	}
}

func TestLongLineSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	long := `{"x":"` + strings.Repeat("y", MaxLine) + `"}` + "\n"
	write(t, path, lines(1, 1)+long+lines(3, 3))
	h := newHarness(t, Config{Paths: []string{path}}, nil)
	var got string
	for !strings.Contains(got, lines(3, 3)) {
		c := h.next(t)
		if c.Line == 2 && len(c.Data) != 0 {
			t.Fatal("the long line was sent")
		}
		if c.Line == 3 && string(c.Data) != lines(3, 3) {
			t.Fatalf("line 3: %q", c.Data)
		}
		got += string(c.Data)
		h.commit(c)
	}
	if got != lines(1, 1)+lines(3, 3) {
		t.Fatalf("got %q", got)
	}
	st := h.tail.Status()
	if st.Errors != 1 || !strings.Contains(st.LastError, path+":2: line longer than") {
		t.Fatalf("status %+v", st)
	}
}

func TestLag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	write(t, path, lines(1, 50))
	h := newHarness(t, Config{Paths: []string{path}, MaxChunk: 200}, nil)
	h.collect(t, path, len(lines(1, 50)))
	appendTo(t, path, lines(51, 51)+`{"partial":`)
	h.collect(t, path, len(lines(1, 51)))
	waitFor(t, func() bool { return h.tail.Status().Lag == int64(len(`{"partial":`)) })
}

// waitFor polls cond until it holds, failing the test past the deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within the deadline")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCutPoint(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", -1},
		{`{"a":1}`, -1},
		{"{\"a\":1}\n", 8},
		{"{\"a\":1}\n{\"b\":", 8},
		{"vault-audit: {\"a\":1}\n", 21},
		{"{\n  \"a\": {\n    \"b\": 1\n  }\n", -1},
		{"{\n  \"a\": {\n    \"b\": 1\n  }\n}\n{\n", 28},
		{"[\n{\"a\":1},\n{\"b\":2}\n]\n", 21},
		{"not json\n", -1},
		{"{\"a\":1}\r\n", 9},
	}
	for _, tt := range tests {
		if got := cutPoint([]byte(tt.in)); got != tt.want {
			t.Errorf("cutPoint(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestRotationWithinFolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	write(t, path, lines(1, 3))
	h := newHarness(t, Config{Paths: []string{dir}}, nil)
	h.collect(t, path, len(lines(1, 3)))
	if err := os.Rename(path, filepath.Join(dir, "audit.log.1")); err != nil {
		t.Fatal(err)
	}
	write(t, path, lines(10, 10))
	// The renamed file is the same file: not read again.
	c := h.next(t)
	if c.Origin != path || c.Line != 1 || string(c.Data) != lines(10, 10) {
		t.Fatalf("got %s:%d %q, want the new file", c.Origin, c.Line, c.Data)
	}
	h.commit(c)
	appendTo(t, filepath.Join(dir, "audit.log.1"), lines(4, 4))
	c = h.next(t)
	if c.Origin != filepath.Join(dir, "audit.log.1") || c.Line != 4 {
		t.Fatalf("got %s:%d, want the renamed file's line 4", c.Origin, c.Line)
	}
	h.commit(c)
}

func TestDeletedWhileWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	write(t, path, lines(1, 2))
	h := newHarness(t, Config{Paths: []string{path}, Settle: 10 * time.Millisecond}, nil)
	h.collect(t, path, len(lines(1, 2)))
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	// Written after the deletion, the last line without its newline:
	// a file that is gone gives up what it holds once quiet.
	f.WriteString(lines(3, 3) + `{"last":`)
	want := lines(1, 3) + `{"last":`
	for h.got[path].Len() < len(want) {
		h.commit(h.next(t))
	}
	if got := h.got[path].String(); got != want {
		t.Fatalf("got %q", got)
	}
	waitFor(t, func() bool { return h.tail.Status().Lag == 0 })
}

// TestRunAgainWaitsForChunks: a Run started while chunks of the previous run
// are still in the pipeline resumes after them once they are stored.
func TestRunAgainWaitsForChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	write(t, path, lines(1, 40))
	h := newHarness(t, Config{Paths: []string{path}, MaxChunk: 200}, nil)
	first := h.next(t)
	h.stop(t)
	h.start(t)
	first.Done(source.Result{})
	c := h.next(t)
	want := 1 + bytes.Count(first.Data, []byte{'\n'})
	if c.Line != want {
		t.Fatalf("after the restart the first chunk is at line %d, want %d", c.Line, want)
	}
	h.commit(c)
}

// TestDoneOutOfOrder: a chunk stored after a later chunk of the same file
// does not move the cursor back.
func TestDoneOutOfOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	write(t, path, lines(1, 40))
	h := newHarness(t, Config{Paths: []string{path}, MaxChunk: 200}, nil)
	first, second := h.next(t), h.next(t)
	second.Done(source.Result{})
	first.Done(source.Result{})
	h.stop(t)
	h.start(t)
	c := h.next(t)
	if want := 1 + bytes.Count(first.Data, []byte{'\n'}) + bytes.Count(second.Data, []byte{'\n'}); c.Line != want {
		t.Fatalf("resumed at line %d, want %d", c.Line, want)
	}
	h.commit(c)
}
