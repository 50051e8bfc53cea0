package auditlog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
	"vaultwatch/internal/source"
)

// Reader reads files, folders and standard input. One Reader serves one
// scan: a Vault request in one file and its response in the next (a rotated
// audit log) are still paired.
//
// Files whose times overlap are read together, an hour at a time: every
// event of one hour, from every file, reaches out before any event of a
// later hour, so that detectors that look across vaults and providers see
// the traffic in time order even when each vault or provider has a file of
// its own covering weeks. Within an hour, files take turns in the order
// they started.
type Reader struct {
	Stats *Stats
	// Stdin is read for the path "-".
	Stdin io.Reader

	formats []record.Format
	out     record.Emit
	// free holds file readers between files (see fileReader), and all
	// holds every one made, for the final flush.
	free, all []*fileReader

	horizon time.Time // events before it go out, the rest wait (merge)
	halted  bool      // the merge was stopped: drop everything
}

// fileReader reads one file at a time into its stream. Its buffers are
// reused from file to file: a scan reads thousands of small hourly blobs.
type fileReader struct {
	stream   *Stream
	br, gzbr *bufio.Reader
	sc       *Scanner
	dir      string // the folder of the last file it read

	// In a merge: the lane being read, and the coroutine (iter.Pull) that
	// reads one lane's file after another, pausing at the first event of
	// a later hour than the merge's current one and after each file.
	lane     *lane
	next     func() (struct{}, bool)
	stop     func()
	yield    func(struct{}) bool
	mergeOut record.Emit
}

// maxOpenFiles bounds the files a merge reads at once. Past it, a file
// waits for another to end, and its events come later than their time.
const maxOpenFiles = 128

// NewReader returns a reader of every supported format that hands each
// event to out. The event is valid only during the call.
func NewReader(out record.Emit) *Reader {
	return NewReaderFormats(Formats(), out)
}

// NewReaderFormats is NewReader with a chosen list of formats.
func NewReaderFormats(formats []record.Format, out record.Emit) *Reader {
	return &Reader{
		Stats:   NewStats(),
		Stdin:   os.Stdin,
		formats: formats,
		out:     out,
	}
}

// fileReader returns a free file reader whose stream emits to out: the
// last one to read a file in path's folder if any (it may hold Vault
// requests that the folder's next file answers), else the last one freed.
func (r *Reader) fileReader(path string, out record.Emit) *fileReader {
	var f *fileReader
	if n := len(r.free); n > 0 {
		i := n - 1
		dir := filepath.Dir(path)
		for j := n - 1; j >= 0; j-- {
			if r.free[j].dir == dir {
				i = j
				break
			}
		}
		f = r.free[i]
		r.free = slices.Delete(r.free, i, i+1)
	} else {
		f = &fileReader{stream: NewStream(r.formats, r.Stats, nil)}
		r.all = append(r.all, f)
	}
	f.stream.out, f.stream.halt, f.dir = out, false, filepath.Dir(path)
	return f
}

// flush emits what every stream still holds (Vault requests never
// answered) and settles the counts.
func (r *Reader) flush() {
	for _, f := range r.all {
		f.stream.out = r.out
		f.stream.Flush()
	}
}

// ReadPaths reads every path: a file, a folder (walked recursively, hidden
// entries skipped) or "-" for standard input, merged in time order (see
// Reader). Paths are checked before anything is read: a path that does not
// exist is an error and nothing is read. Problems in the input itself are
// counted in Stats, not returned.
func (r *Reader) ReadPaths(ctx context.Context, paths []string) error {
	var files []string
	for _, p := range paths {
		if p == "-" {
			files = append(files, "-")
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := walk(p)
		if err != nil {
			return err
		}
		files = append(files, found...)
	}
	if len(files) == 1 {
		f := r.fileReader(files[0], r.out)
		f.readFile(r, files[0])
		r.free = append(r.free, f)
		r.flush()
		return nil
	}
	lanes := make([]*lane, len(files))
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		lanes[i] = &lane{path: f, start: r.startOf(f)}
	}
	slices.SortStableFunc(lanes, func(a, b *lane) int { return a.start.Compare(b.start) })
	if err := r.merge(ctx, lanes); err != nil {
		return err
	}
	r.flush()
	return nil
}

// ReadStream reads one stream under the given name.
func (r *Reader) ReadStream(name string, in io.Reader) {
	f := r.fileReader(name, r.out)
	f.read(name, in)
	r.free = append(r.free, f)
	r.flush()
}

// lane is one file of a merge.
type lane struct {
	path  string
	start time.Time // its first event's time, as far as known beforehand

	f       *fileReader
	held    event.Event // the first event past the horizon, kept until its hour
	holding bool
	done    bool // read to its end
}

// startOf is when the file at path starts: the hour of an Azure blob path,
// else the time of its first event; zero when unknown (standard input, a
// file with no readable event).
func (r *Reader) startOf(path string) time.Time {
	if path == "-" {
		return time.Time{}
	}
	if key := source.BlobTimeKey(path); key != "" {
		if t, err := time.Parse("200601021504", key); err == nil {
			return t
		}
	}
	in, err := os.Open(path)
	if err != nil {
		return time.Time{} // reported when the file is read
	}
	defer in.Close()
	var first time.Time
	probe := &fileReader{}
	probe.stream = NewStream(r.formats, NewStats(), func(e *event.Event) {
		first, probe.stream.halt = e.Time, true
	})
	probe.stream.now = func() time.Time { return time.Time{} }
	probe.read(path, io.LimitReader(in, 4<<20))
	return first
}

// merge reads the lanes, sorted by start, an hour at a time: each turn
// takes the earliest hour any lane has still to give, starts the lanes that
// begin in it, and lets each read on until it reaches an event of a later
// hour, which it keeps for that hour's turn.
func (r *Reader) merge(ctx context.Context, pending []*lane) error {
	var active []*lane
	defer func() {
		// Every coroutine ends: those between files at once, those in a
		// file (a merge stopped early) at its next record.
		r.halted = true
		for _, f := range r.all {
			if f.stop != nil {
				f.stop()
				f.next, f.stop, f.yield, f.lane = nil, nil, nil, nil
			}
		}
		r.halted = false
	}()
	for len(active) > 0 || len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		var next time.Time
		found := false
		for _, l := range active {
			if l.holding && (!found || l.held.Time.Before(next)) {
				next, found = l.held.Time, true
			}
		}
		if len(pending) > 0 && (!found || pending[0].start.Before(next)) && len(active) < maxOpenFiles {
			next = pending[0].start
		}
		// (Something is always found: after a turn every open lane holds
		// an event or has ended, and with none open a pending lane opens.)
		r.horizon = next.Truncate(time.Hour).Add(time.Hour)
		for len(pending) > 0 && pending[0].start.Before(r.horizon) && len(active) < maxOpenFiles {
			active = append(active, r.open(pending[0]))
			pending = pending[1:]
		}
		kept := active[:0]
		for _, l := range active {
			if err := ctx.Err(); err != nil {
				kept = append(kept, l)
				continue
			}
			if l.holding {
				if !l.held.Time.Before(r.horizon) {
					kept = append(kept, l)
					continue
				}
				l.holding = false
				r.out(&l.held)
			}
			l.f.next()
			if !l.done {
				kept = append(kept, l) // holding an event of a later hour
				continue
			}
			l.f.lane = nil
			r.free = append(r.free, l.f)
		}
		clear(active[len(kept):])
		active = kept
	}
	return nil
}

// open gives l a file reader, whose coroutine reads l's file when next
// resumed.
func (r *Reader) open(l *lane) *lane {
	f := r.fileReader(l.path, nil)
	if f.next == nil {
		f.mergeOut = func(e *event.Event) {
			if r.halted {
				f.stream.halt = true
				return
			}
			if e.Time.Before(r.horizon) {
				r.out(e)
				return
			}
			l := f.lane
			l.held, l.holding = *e, true
			l.held.Caller.Policies = slices.Clone(e.Caller.Policies)
			if !f.yield(struct{}{}) {
				f.stream.halt = true
			}
		}
		f.next, f.stop = iter.Pull(func(yield func(struct{}) bool) {
			f.yield = yield
			for {
				f.readFile(r, f.lane.path)
				f.lane.done = true
				if !yield(struct{}{}) {
					return
				}
				f.stream.halt = false
			}
		})
	}
	f.stream.out, f.lane, l.f = f.mergeOut, l, f
	return l
}

func (f *fileReader) readFile(r *Reader, path string) {
	if path == "-" {
		f.read("stdin", r.Stdin)
		return
	}
	in, err := os.Open(path)
	if err != nil {
		f.stream.stats.problem(event.Location{File: path}, err.Error())
		return
	}
	defer in.Close()
	f.read(path, in)
}

func (f *fileReader) read(name string, in io.Reader) {
	stats := f.stream.stats
	stats.Files++
	br := bufReader(&f.br, &counter{r: in, n: &stats.Bytes})
	var src io.Reader = br
	head, _ := br.Peek(2)
	gz := len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			stats.problem(event.Location{File: name}, "not a readable gzip file: "+err.Error())
			return
		}
		src = bufReader(&f.gzbr, zr)
	}
	pr := src.(*bufio.Reader)
	head, err := pr.Peek(8 << 10)
	if len(head) == 0 {
		if err != nil && !errors.Is(err, io.EOF) {
			stats.problem(event.Location{File: name}, describeReadErr(err, gz))
			return
		}
		stats.Notes = append(stats.Notes, Problem{Loc: event.Location{File: name}, Reason: "empty file"})
		return
	}
	if bytes.IndexByte(head, 0) >= 0 {
		stats.Records.Add(1)
		stats.problem(event.Location{File: name}, "binary data (a NUL byte in the first 8 KiB), not a log file: skipped")
		return
	}
	read := func() error {
		if f.sc == nil {
			f.sc = NewScanner(pr, 0)
		} else {
			f.sc.Reset(pr)
		}
		return f.stream.scanAll(name, f.sc)
	}
	switch {
	case isCSVHeader(head):
		read = func() error { return f.stream.readCSV(name, pr) }
	case isJSONX(head):
		read = func() error { return f.stream.readJSONX(name, pr) }
	}
	if err := read(); err != nil {
		stats.problem(event.Location{File: name}, describeReadErr(err, gz))
	}
}

// readAll is ReadAll without the final flush: a scan flushes once, after
// its last file.
func (st *Stream) readAll(name string, in io.Reader) error {
	return st.scanAll(name, NewScanner(in, 0))
}

// scanAll decodes every record sc finds.
func (st *Stream) scanAll(name string, sc *Scanner) error {
	for !st.halt && sc.Scan() {
		loc := event.Location{File: name, Line: sc.Line(), Offset: sc.Offset()}
		if err := sc.Err(); err != nil {
			st.stats.Records.Add(1)
			st.stats.problem(loc, err.Error())
			continue
		}
		st.Record(sc.Record(), loc)
	}
	st.settle()
	return sc.ReadErr()
}

func describeReadErr(err error, gz bool) string {
	if gz && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader)) {
		return "truncated or corrupt gzip stream: " + err.Error() + " (records before it were read)"
	}
	return "read error: " + err.Error()
}

// bufReader returns *b reset to read in, made on first use.
func bufReader(b **bufio.Reader, in io.Reader) *bufio.Reader {
	if *b == nil {
		*b = bufio.NewReaderSize(in, 64<<10)
	} else {
		(*b).Reset(in)
	}
	return *b
}

type counter struct {
	r io.Reader
	n interface{ Add(int64) int64 }
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// walk lists the regular files under root, skipping hidden entries, in the
// order a scan should read them: files in Azure blob time folders by their
// hour, the rest by path, those first.
func walk(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != root && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking %s: %w", root, err)
	}
	keys := make(map[string]string, len(files))
	for _, f := range files {
		keys[f] = source.BlobTimeKey(f)
	}
	slices.SortStableFunc(files, func(a, b string) int {
		if c := strings.Compare(keys[a], keys[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return files, nil
}
