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
	"os"
	"path/filepath"
	"slices"
	"strings"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
	"vaultwatch/internal/source"
)

// Reader reads files, folders and standard input. One Reader serves one
// scan: a Vault request in one file and its response in the next (a rotated
// audit log) are still paired.
type Reader struct {
	Stats *Stats
	// Stdin is read for the path "-".
	Stdin io.Reader

	stream *Stream

	// Buffers reused from file to file: a scan reads thousands of small
	// hourly blobs.
	br, gzbr *bufio.Reader
	sc       *Scanner
}

// NewReader returns a reader of every supported format that hands each
// event to out. The event is valid only during the call.
func NewReader(out record.Emit) *Reader {
	return NewReaderFormats(Formats(), out)
}

// NewReaderFormats is NewReader with a chosen list of formats.
func NewReaderFormats(formats []record.Format, out record.Emit) *Reader {
	st := NewStats()
	return &Reader{
		Stats:  st,
		Stdin:  os.Stdin,
		stream: NewStream(formats, st, out),
	}
}

// ReadPaths reads every path in turn: a file, a folder (walked recursively,
// hidden entries skipped, Azure blob folders y=/m=/d=/h=/m= in time order),
// or "-" for standard input. Paths are checked before anything is read: a
// path that does not exist is an error and nothing is read. Problems in the
// input itself are counted in Stats, not returned.
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
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.readFile(f)
	}
	r.stream.Flush()
	return nil
}

// ReadStream reads one stream under the given name.
func (r *Reader) ReadStream(name string, in io.Reader) {
	r.read(name, in)
	r.stream.Flush()
}

func (r *Reader) readFile(path string) {
	if path == "-" {
		r.read("stdin", r.Stdin)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		r.Stats.problem(event.Location{File: path}, err.Error())
		return
	}
	defer f.Close()
	r.read(path, f)
}

func (r *Reader) read(name string, in io.Reader) {
	r.Stats.Files++
	br := r.bufReader(&r.br, &counter{r: in, n: &r.Stats.Bytes})
	var src io.Reader = br
	head, _ := br.Peek(2)
	gz := len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			r.Stats.problem(event.Location{File: name}, "not a readable gzip file: "+err.Error())
			return
		}
		src = r.bufReader(&r.gzbr, zr)
	}
	pr := src.(*bufio.Reader)
	head, err := pr.Peek(8 << 10)
	if len(head) == 0 {
		if err != nil && !errors.Is(err, io.EOF) {
			r.Stats.problem(event.Location{File: name}, describeReadErr(err, gz))
			return
		}
		r.Stats.Notes = append(r.Stats.Notes, Problem{Loc: event.Location{File: name}, Reason: "empty file"})
		return
	}
	if bytes.IndexByte(head, 0) >= 0 {
		r.Stats.Records.Add(1)
		r.Stats.problem(event.Location{File: name}, "binary data (a NUL byte in the first 8 KiB), not a log file: skipped")
		return
	}
	read := func() error {
		if r.sc == nil {
			r.sc = NewScanner(pr, 0)
		} else {
			r.sc.Reset(pr)
		}
		return r.stream.scanAll(name, r.sc)
	}
	switch {
	case isCSVHeader(head):
		read = func() error { return r.stream.readCSV(name, pr) }
	case isJSONX(head):
		read = func() error { return r.stream.readJSONX(name, pr) }
	}
	if err := read(); err != nil {
		r.Stats.problem(event.Location{File: name}, describeReadErr(err, gz))
	}
}

// readAll is ReadAll without the final flush: a scan flushes once, after
// its last file.
func (st *Stream) readAll(name string, in io.Reader) error {
	return st.scanAll(name, NewScanner(in, 0))
}

// scanAll decodes every record sc finds.
func (st *Stream) scanAll(name string, sc *Scanner) error {
	for sc.Scan() {
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
func (r *Reader) bufReader(b **bufio.Reader, in io.Reader) *bufio.Reader {
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
