// Package file tails files and folders as they grow: the Vault/OpenBao file
// audit device, Azure diagnostic blob folders synchronised to disk, any
// folder logs are copied into.
//
// A Tail polls its paths. Each file is known by its identity (device and
// inode), so a file renamed by a rotation is finished under its new name
// before the new file at the old path is read from its start; a file that
// shrinks (truncated in place, or copied and truncated) is read again from
// its start; a file that disappears is read to its end while it is still
// open. Files named *.gz are complete: each is read once, decompressed.
//
// Every chunk carries the file's cursor: its identity as the key, and as the
// value the offset and line after the chunk and a fingerprint of the file's
// first bytes (a file replaced by another one that reuses the inode while
// vaultwatch was stopped is read from its start). The cursor of a chunk is
// only where the tail stands once that chunk is stored: a Tail resumes from
// the cursors it was given and from those whose chunks were stored since,
// never from what it merely sent.
package file

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"vaultwatch/internal/source"
)

// Defaults for Config's zero values.
const (
	DefaultPoll     = time.Second
	DefaultSettle   = 10 * time.Second
	DefaultMaxChunk = 1 << 20
)

// MaxLine is the longest line (or pretty-printed record) a Tail hands on; a
// longer one is skipped up to its newline and counted as an error. It is the
// intake's own record limit.
const MaxLine = 1 << 20

// maxOpen bounds the files a Tail keeps open; past it, the files read to
// their end that have been quiet the longest are closed (and opened again
// when they grow).
const maxOpen = 256

// settledWait bounds how long Run waits for the chunks a previous run sent
// to be stored or refused before it starts again from the stored cursors.
const settledWait = time.Minute

// Config configures a Tail.
type Config struct {
	// Name is the source's name.
	Name string
	// Paths are files and folders. Folders are walked recursively, hidden
	// entries skipped; files that appear in them are picked up while
	// running. A path that does not exist yet is reported and looked for
	// again at every poll.
	Paths []string
	// Include, when set, is a glob (path/filepath.Match) that the names of
	// files found in folders must match, e.g. "*.json". Files named in
	// Paths are always read.
	Include string
	// Poll is how often the paths are looked at (DefaultPoll when zero).
	Poll time.Duration
	// Settle is how long a file must stay the same size before a last line
	// without its newline is taken as complete, when it ends with '}'
	// (DefaultSettle when zero).
	Settle time.Duration
	// MaxChunk is the most bytes of whole lines in one chunk
	// (DefaultMaxChunk when zero). A single record longer than MaxChunk
	// (up to MaxLine) is sent as a chunk of its own.
	MaxChunk int
	// Logger receives the tail's reports (nil: discarded). Record
	// contents are never logged.
	Logger *slog.Logger
}

// Tail is a source.Source reading files as they grow.
type Tail struct {
	source.Counters

	cfg         Config
	log         *slog.Logger
	now         func() time.Time
	maxOpen     int
	truncations atomic.Int64
	running     atomic.Bool

	mu         sync.Mutex
	committed  map[string]commit // cursor values whose chunks were stored, by key
	seq        uint64            // chunks sent, for the order of their commits
	inflight   int               // chunks sent and not yet done
	gen        int               // the current run
	failedKeys map[string]bool   // keys with a chunk refused in this run
	failure    error             // the first chunk refused in this run
}

var _ source.Source = (*Tail)(nil)

// Validate returns every problem with cfg, joined.
func (cfg Config) Validate() error {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("file source: no name"))
	}
	if len(cfg.Paths) == 0 {
		errs = append(errs, fmt.Errorf("file source %q: no paths", cfg.Name))
	}
	for _, p := range cfg.Paths {
		if p == "" {
			errs = append(errs, fmt.Errorf("file source %q: an empty path", cfg.Name))
		}
	}
	if cfg.Include != "" {
		if _, err := filepath.Match(cfg.Include, ""); err != nil {
			errs = append(errs, fmt.Errorf("file source %q: include %q: %w", cfg.Name, cfg.Include, err))
		}
	}
	if cfg.Poll < 0 || cfg.Settle < 0 || cfg.MaxChunk < 0 {
		errs = append(errs, fmt.Errorf("file source %q: poll, settle and max chunk must not be negative", cfg.Name))
	}
	return errors.Join(errs...)
}

// New returns a tail that resumes from cursors (the cursor values stored for
// this source, by key), as the chunks of an earlier run left them.
func New(cfg Config, cursors map[string]string) (*Tail, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	committed := make(map[string]commit, len(cursors))
	for k, v := range cursors {
		if _, err := decodePosition(v); err != nil {
			errs = append(errs, fmt.Errorf("file source %q: cursor %q: %w", cfg.Name, k, err))
			continue
		}
		committed[k] = commit{value: v}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Poll == 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.Settle == 0 {
		cfg.Settle = DefaultSettle
	}
	if cfg.MaxChunk == 0 {
		cfg.MaxChunk = DefaultMaxChunk
	}
	cfg.Paths = slices.Clone(cfg.Paths)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Tail{
		cfg:        cfg,
		log:        log.With("component", "source.file", "source", cfg.Name),
		now:        time.Now,
		maxOpen:    maxOpen,
		committed:  committed,
		failedKeys: map[string]bool{},
	}
	t.Init(cfg.Name, "file", "bytes")
	return t, nil
}

// Name returns the source's name.
func (t *Tail) Name() string { return t.cfg.Name }

// Truncations counts the files found shorter than where reading stood, or
// rewritten from their start: each was read again from its start.
func (t *Tail) Truncations() int64 { return t.truncations.Load() }

// Run tails the paths until ctx is cancelled. It first waits for the chunks
// of an earlier run to be done, then resumes from the stored cursors. It
// returns an error when a chunk it sent could not be stored (the next run
// resumes from the cursors stored so far); it must not be called twice at
// once.
func (t *Tail) Run(ctx context.Context, out chan<- source.Chunk) error {
	if !t.running.CompareAndSwap(false, true) {
		return fmt.Errorf("file source %q: already running", t.cfg.Name)
	}
	defer t.running.Store(false)
	if !t.waitSettled(ctx) {
		return nil
	}
	t.mu.Lock()
	t.gen++
	t.failure = nil
	clear(t.failedKeys)
	r := &run{
		t:      t,
		out:    out,
		gen:    t.gen,
		resume: make(map[string]position, len(t.committed)),
		files:  map[string]*tracked{},
		noted:  map[string]string{},
	}
	for k, c := range t.committed {
		p, _ := decodePosition(c.value) // checked when stored
		r.resume[k] = p
	}
	t.mu.Unlock()
	defer r.closeAll()

	tick := time.NewTicker(t.cfg.Poll)
	defer tick.Stop()
	for {
		if err := r.poll(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := t.failed(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// waitSettled waits until no chunk of an earlier run is in the pipeline, so
// that the stored cursors are final. It returns false when ctx is done.
func (t *Tail) waitSettled(ctx context.Context) bool {
	deadline := t.now().Add(settledWait)
	tick := time.NewTicker(min(t.cfg.Poll, 100*time.Millisecond))
	defer tick.Stop()
	for {
		t.mu.Lock()
		n := t.inflight
		t.mu.Unlock()
		if n == 0 {
			return true
		}
		if t.now().After(deadline) {
			t.log.Warn("chunks of the previous run were never done; resuming from the cursors stored so far", "chunks", n)
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

func (t *Tail) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failure
}

// commit is a stored cursor value and the order of its chunk (0 for the
// cursors given to New).
type commit struct {
	seq   uint64
	value string
}

// doneFunc counts a chunk as sent and returns its Done: a stored chunk's
// cursor becomes where the next run resumes, unless a later chunk of the
// same file was stored first; a refused chunk stops this run, and no later
// chunk of the same file moves its cursor past it.
func (t *Tail) doneFunc(gen int, key, value, origin string) func(source.Result) {
	t.mu.Lock()
	t.inflight++
	t.seq++
	seq := t.seq
	t.mu.Unlock()
	var once sync.Once
	return func(res source.Result) {
		once.Do(func() {
			if res.Err != nil {
				err := fmt.Errorf("file source %q: %s was not stored: %w", t.cfg.Name, origin, res.Err)
				t.Error(err)
				t.log.Error("chunk not stored; the tail restarts from the stored cursors", "file", origin, "err", res.Err)
				t.mu.Lock()
				t.inflight--
				if gen == t.gen {
					t.failedKeys[key] = true
					if t.failure == nil {
						t.failure = err
					}
				}
				t.mu.Unlock()
				return
			}
			t.mu.Lock()
			t.inflight--
			if (gen != t.gen || !t.failedKeys[key]) && seq > t.committed[key].seq {
				t.committed[key] = commit{seq: seq, value: value}
			}
			t.mu.Unlock()
		})
	}
}

// unsent gives back the count of a chunk that was never sent.
func (t *Tail) unsent() {
	t.mu.Lock()
	t.inflight--
	t.mu.Unlock()
}

// tracked is a file the current run knows.
type tracked struct {
	key, path string
	gz        bool
	f         *os.File
	pos       position  // where the last chunk sent ends
	size      int64     // the size at the last look, -1 before
	grown     time.Time // when the size last changed
	skipping  bool      // inside a line longer than MaxLine
	skipTo    int64     // how far that line has been passed over
	done      bool      // a .gz file read to its end
	seen      bool      // found by the latest discovery
}

// run is the state of one Run.
type run struct {
	t      *Tail
	out    chan<- source.Chunk
	gen    int
	resume map[string]position
	files  map[string]*tracked
	noted  map[string]string // the last problem reported per path
	open   int
}

// poll looks at every path once and sends what was written since.
func (r *run) poll(ctx context.Context) error {
	now := r.t.now()
	list := r.t.discover(r.note)
	for _, tf := range r.files {
		tf.seen = false
	}
	type item struct {
		tf   *tracked
		size int64
	}
	present := make([]item, 0, len(list))
	for _, e := range list {
		tf := r.files[e.key]
		if tf == nil {
			tf = r.track(e, now)
			r.files[e.key] = tf
		}
		tf.seen = true
		if tf.path != e.path {
			r.t.log.Info("file renamed", "file", tf.path, "now", e.path)
			tf.path = e.path
		}
		delete(r.noted, e.path)
		present = append(present, item{tf, e.info.Size()})
	}

	// Files no longer at any watched path (renamed away by a rotation,
	// or deleted) hold the older records: finished first, while open.
	var gone []*tracked
	for _, tf := range r.files {
		if !tf.seen {
			gone = append(gone, tf)
		}
	}
	slices.SortFunc(gone, func(a, b *tracked) int { return strings.Compare(a.key, b.key) })
	for _, tf := range gone {
		if tf.f == nil || tf.gz {
			r.forget(tf)
			continue
		}
		fi, err := tf.f.Stat()
		if err != nil {
			r.forget(tf)
			continue
		}
		size := fi.Size()
		if err := r.advancePlain(ctx, tf, size, true, now); err != nil {
			return err
		}
		if tf.pos.Offset >= size && now.Sub(tf.grown) >= r.t.cfg.Settle {
			r.t.log.Debug("file gone and read to its end", "file", tf.path)
			r.forget(tf)
		}
	}

	for _, it := range present {
		if err := r.t.failed(); err != nil {
			return err
		}
		var err error
		if it.tf.gz {
			err = r.advanceGzip(ctx, it.tf, it.size, now)
		} else {
			err = r.advancePlain(ctx, it.tf, it.size, false, now)
		}
		if err != nil {
			return err
		}
	}

	var lag int64
	for _, tf := range r.files {
		switch {
		case tf.gz && !tf.done:
			lag += max(tf.size, 0)
		case !tf.gz && tf.size > tf.pos.Offset:
			lag += tf.size - tf.pos.Offset
		}
	}
	r.t.SetLag(lag)
	r.closeIdle()
	return nil
}

// track starts following a file found for the first time in this run: from
// its stored cursor when there is one and the file is still the one the
// cursor was written for, from its start otherwise.
func (r *run) track(e found, now time.Time) *tracked {
	tf := &tracked{
		key:   e.key,
		path:  e.path,
		gz:    isGzip(e.path),
		size:  -1,
		grown: now,
	}
	tf.pos = position{Line: 1, Path: e.path, Gzip: tf.gz}
	p, ok := r.resume[e.key]
	if !ok {
		return tf
	}
	delete(r.resume, e.key)
	p.Path = e.path
	switch {
	case p.Gzip != tf.gz:
		r.t.log.Warn("file renamed to or from .gz since its cursor was stored; reading it from its start", "file", e.path)
	case !p.Gzip && e.info.Size() < p.Offset:
		r.t.truncations.Add(1)
		r.t.log.Warn("file shorter than its stored cursor; reading it again from its start", "file", e.path, "offset", p.Offset, "size", e.info.Size())
	case !r.fpMatches(tf, p):
		r.t.log.Warn("file replaced since its cursor was stored; reading it from its start", "file", e.path)
	default:
		tf.pos = p
		tf.done = p.Gzip && p.Done
	}
	return tf
}

// fpMatches reports whether the file still starts with the bytes p was
// written for.
func (r *run) fpMatches(tf *tracked, p position) bool {
	if p.FPLen == 0 {
		return true
	}
	if err := r.ensureOpen(tf); err != nil {
		return true // looked at again when it can be opened
	}
	b := make([]byte, p.FPLen)
	if n, _ := tf.f.ReadAt(b, 0); n < p.FPLen {
		return false
	}
	return fingerprint(b) == p.FP
}

func (r *run) ensureOpen(tf *tracked) error {
	if tf.f != nil {
		return nil
	}
	f, err := os.Open(tf.path)
	if err != nil {
		r.note(tf.path, err)
		return err
	}
	fi, err := f.Stat()
	if err == nil && identity(fi, tf.path) != tf.key {
		err = errors.New("replaced while being opened")
	}
	if err != nil {
		f.Close()
		return err
	}
	tf.f = f
	r.open++
	return nil
}

func (r *run) closeFile(tf *tracked) {
	if tf.f != nil {
		tf.f.Close()
		tf.f = nil
		r.open--
	}
}

func (r *run) forget(tf *tracked) {
	r.closeFile(tf)
	delete(r.files, tf.key)
}

func (r *run) closeAll() {
	for _, tf := range r.files {
		r.closeFile(tf)
	}
}

// closeIdle closes, past maxOpen open files, those read to their end that
// have been quiet the longest.
func (r *run) closeIdle() {
	if r.open <= r.t.maxOpen {
		return
	}
	var idle []*tracked
	for _, tf := range r.files {
		if tf.f != nil && tf.seen && !tf.gz && tf.pos.Offset >= tf.size {
			idle = append(idle, tf)
		}
	}
	slices.SortFunc(idle, func(a, b *tracked) int { return a.grown.Compare(b.grown) })
	for _, tf := range idle {
		if r.open <= r.t.maxOpen {
			break
		}
		r.closeFile(tf)
	}
}

// note reports a problem with a path, once until it changes.
func (r *run) note(path string, err error) {
	msg := err.Error()
	if r.noted[path] == msg {
		return
	}
	r.noted[path] = msg
	r.t.Error(err)
	r.t.log.Warn("cannot read path", "path", path, "err", err)
}

// fail reports a problem with the data read (never quoting it).
func (r *run) fail(err error) {
	r.t.Error(err)
	r.t.log.Warn("bad input", "err", err)
}

func (r *run) truncated(tf *tracked, why string) {
	r.t.truncations.Add(1)
	r.t.log.Warn("file "+why+"; reading it again from its start", "file", tf.path, "offset", tf.pos.Offset)
	tf.pos = position{Line: 1, Path: tf.path}
	tf.skipping = false
}

// advancePlain sends what a plain file holds past its cursor.
func (r *run) advancePlain(ctx context.Context, tf *tracked, size int64, gone bool, now time.Time) error {
	if size < tf.pos.Offset {
		r.truncated(tf, "truncated")
	} else if size != tf.size && tf.pos.FPLen > 0 && r.ensureOpen(tf) == nil && !r.fpMatches(tf, tf.pos) {
		r.truncated(tf, "rewritten from its start")
	}
	if size != tf.size {
		tf.size = size
		tf.grown = now
	}
	if tf.pos.Offset >= size {
		return nil
	}
	if err := r.ensureOpen(tf); err != nil {
		return nil
	}
	return r.readPlain(ctx, tf, size, gone, now)
}

func (r *run) readAt(tf *tracked, off, n int64) ([]byte, bool) {
	buf := make([]byte, n)
	m, err := tf.f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		r.note(tf.path, err)
		return nil, false
	}
	return buf[:m], true
}

func (r *run) readPlain(ctx context.Context, tf *tracked, size int64, gone bool, now time.Time) error {
	for tf.pos.Offset < size {
		if tf.skipping {
			if err := r.skipLong(ctx, tf, size); err != nil {
				return err
			}
			if tf.skipping {
				return nil
			}
			continue
		}
		off := tf.pos.Offset
		buf, ok := r.readAt(tf, off, min(size-off, int64(r.t.cfg.MaxChunk)))
		if !ok || len(buf) == 0 {
			return nil
		}
		n := cutPoint(buf)
		if n < 0 {
			// No whole record within MaxChunk: one long record, or
			// lines that are not records, or a line still being
			// written.
			buf, ok = r.readAt(tf, off, min(size-off, MaxLine+1))
			if !ok {
				return nil
			}
			n = cutPoint(buf)
			if n < 0 && len(buf) > MaxLine {
				n = bytes.LastIndexByte(buf, '\n') + 1
				if n == 0 {
					r.fail(fmt.Errorf("%s:%d: line longer than %d bytes: skipped", tf.path, tf.pos.Line, MaxLine))
					tf.skipping, tf.skipTo = true, off
					continue
				}
			}
			if n < 0 {
				break
			}
		}
		if err := r.sendData(ctx, tf, buf[:n], false); err != nil {
			return err
		}
	}
	// A last line without its newline: complete once the file has been
	// quiet for Settle and it closes a record; whatever is left of a file
	// that is gone.
	if off := tf.pos.Offset; off < size && !tf.skipping && now.Sub(tf.grown) >= r.t.cfg.Settle {
		rest, ok := r.readAt(tf, off, min(size-off, MaxLine+1))
		if !ok || len(rest) == 0 {
			return nil
		}
		trimmed := bytes.TrimRight(rest, " \t\r")
		if gone || rest[len(rest)-1] == '\n' || (len(trimmed) > 0 && trimmed[len(trimmed)-1] == '}') {
			return r.sendData(ctx, tf, rest, false)
		}
	}
	return nil
}

// skipLong passes over the rest of a line longer than MaxLine. Once its
// newline is found, a chunk with no data moves the cursor past it.
func (r *run) skipLong(ctx context.Context, tf *tracked, size int64) error {
	buf := make([]byte, 64<<10)
	for tf.skipTo < size {
		m, err := tf.f.ReadAt(buf[:min(int64(len(buf)), size-tf.skipTo)], tf.skipTo)
		if err != nil && !errors.Is(err, io.EOF) {
			r.note(tf.path, err)
			return nil
		}
		if m == 0 {
			return nil
		}
		if i := bytes.IndexByte(buf[:m], '\n'); i >= 0 {
			next := tf.pos
			next.Offset = tf.skipTo + int64(i) + 1
			next.Line++
			tf.skipping = false
			return r.send(ctx, tf, nil, next)
		}
		tf.skipTo += int64(m)
	}
	return nil
}

// sendData sends data, read at the file's cursor, and moves the cursor past
// it.
func (r *run) sendData(ctx context.Context, tf *tracked, data []byte, done bool) error {
	next := tf.pos
	next.Offset += int64(len(data))
	next.Line += int64(bytes.Count(data, []byte{'\n'}))
	next.Done = done
	return r.send(ctx, tf, data, next)
}

// send hands one chunk to the pipeline; the cursor moves to next once it
// has been taken.
func (r *run) send(ctx context.Context, tf *tracked, data []byte, next position) error {
	if err := r.t.failed(); err != nil {
		return err
	}
	next.Path = tf.path
	if !tf.gz && next.FPLen < fingerprintSize && next.Offset > int64(next.FPLen) && tf.f != nil {
		b := make([]byte, min(next.Offset, fingerprintSize))
		if n, _ := tf.f.ReadAt(b, 0); n == len(b) {
			next.FPLen, next.FP = n, fingerprint(b)
		}
	}
	if len(data) == 0 {
		data = nil
	}
	value := next.encode()
	c := source.Chunk{
		Source: r.t.cfg.Name,
		Origin: tf.path,
		Line:   int(tf.pos.Line),
		Data:   data,
		Cursor: source.Cursor{Key: tf.key, Value: value},
	}
	c.Done = r.t.doneFunc(r.gen, tf.key, value, tf.path)
	select {
	case r.out <- c:
	case <-ctx.Done():
		r.t.unsent()
		return ctx.Err()
	}
	tf.pos = next
	if len(data) > 0 {
		records := int64(bytes.Count(data, []byte{'\n'}))
		if data[len(data)-1] != '\n' {
			records++
		}
		r.t.Read(records, int64(len(data)), r.t.now())
	}
	return nil
}

// cutPoint returns the length of the longest prefix of b that ends with a
// line closing a record, or -1. Such a line ends with '}' or ']' and does not
// start with blank space: every line of JSON Lines (with or without an
// audit device's prefix), the last line of a pretty-printed object, never
// the inner lines of one. Cutting there keeps a pretty-printed record whole.
func cutPoint(b []byte) int {
	end := len(b)
	for {
		nl := bytes.LastIndexByte(b[:end], '\n')
		if nl < 0 {
			return -1
		}
		start := bytes.LastIndexByte(b[:nl], '\n') + 1
		if closesRecord(b[start:nl]) {
			return nl + 1
		}
		end = nl
	}
}

func closesRecord(line []byte) bool {
	line = bytes.TrimRight(line, " \t\r")
	if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
		return false
	}
	last := line[len(line)-1]
	return last == '}' || last == ']'
}

func isGzip(path string) bool {
	return strings.HasSuffix(strings.ToLower(path), ".gz")
}

// advanceGzip reads a .gz file once, when it has stopped growing (seen at
// the same size at two polls in a row).
func (r *run) advanceGzip(ctx context.Context, tf *tracked, size int64, now time.Time) error {
	if tf.done {
		return nil
	}
	if size != tf.size {
		tf.size = size
		tf.grown = now
		return nil
	}
	return r.readGzip(ctx, tf)
}

func (r *run) readGzip(ctx context.Context, tf *tracked) error {
	if err := r.ensureOpen(tf); err != nil {
		return nil
	}
	defer r.closeFile(tf)
	if tf.pos.FPLen == 0 {
		b := make([]byte, fingerprintSize)
		n, _ := tf.f.ReadAt(b, 0)
		tf.pos.FPLen, tf.pos.FP = n, fingerprint(b[:n])
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(io.NewSectionReader(tf.f, 0, math.MaxInt64), 64<<10))
	if err != nil {
		r.fail(fmt.Errorf("%s: not a readable gzip file: %w", tf.path, err))
		tf.done = true
		return r.sendData(ctx, tf, nil, true)
	}
	defer zr.Close()
	br := bufio.NewReaderSize(zr, 64<<10)
	if tf.pos.Offset > 0 {
		if n, err := io.CopyN(io.Discard, br, tf.pos.Offset); err != nil {
			r.fail(fmt.Errorf("%s: %d decompressed bytes where its cursor stands at %d: %w", tf.path, n, tf.pos.Offset, err))
			tf.done = true
			return r.sendData(ctx, tf, nil, true)
		}
	}
	var carry []byte
	for {
		buf := make([]byte, len(carry), len(carry)+r.t.cfg.MaxChunk)
		copy(buf, carry)
		carry = nil
		var rerr error
		for len(buf) < cap(buf) {
			n, err := br.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err != nil {
				rerr = err
				break
			}
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				r.fail(fmt.Errorf("%s:%d: truncated or corrupt gzip stream (%w); the records before it were read", tf.path, tf.pos.Line+int64(bytes.Count(buf, []byte{'\n'})), rerr))
			}
			tf.done = true
			return r.sendData(ctx, tf, buf, true)
		}
		n := cutPoint(buf)
		if n < 0 && len(buf) > MaxLine {
			n = bytes.LastIndexByte(buf, '\n') + 1
			if n == 0 {
				line := tf.pos.Line
				r.fail(fmt.Errorf("%s:%d: line longer than %d bytes: skipped", tf.path, line, MaxLine))
				skipped, err := skipLine(br)
				next := tf.pos
				next.Offset += int64(len(buf)) + skipped
				next.Line++
				if err != nil {
					next.Line--
					next.Done = true
					tf.done = true
				}
				if err := r.send(ctx, tf, nil, next); err != nil || tf.done {
					return err
				}
				continue
			}
		}
		if n < 0 {
			carry = buf
			continue
		}
		carry = buf[n:]
		if err := r.sendData(ctx, tf, buf[:n], false); err != nil {
			return err
		}
	}
}

// skipLine reads past the next newline, returning how many bytes it read.
func skipLine(br *bufio.Reader) (int64, error) {
	var n int64
	for {
		b, err := br.ReadSlice('\n')
		n += int64(len(b))
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return n, err
		}
	}
}
