package auditlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"vaultwatch/internal/auditlog/record"
)

// DefaultMaxRecord is the largest record (one JSON object, one line) the
// scanner accepts. A longer one is skipped without being held in memory and
// reported as malformed.
const DefaultMaxRecord = 1 << 20

// maxPrefix bounds the text an audit device may write before the JSON object
// on a line (Vault's "prefix" option).
const maxPrefix = 512

// scanErr is a problem with the record the scanner just passed over. The
// scan goes on after it.
type scanErr struct {
	line, off int64
	reason    string
}

func (e *scanErr) Error() string { return e.reason }

// Scanner splits a stream into JSON records: JSON Lines, pretty-printed
// streams of objects, top-level arrays, `{"records":[...]}` and
// `{"Records":[...]}` wrappers of any size (elements are streamed), and lines
// with a text prefix before the object. It holds at most one record in
// memory.
//
// A record cut short (a line that ends inside a string, or a new object at
// the start of a line while the previous one is still open) is reported and
// scanning resumes at the next line, so one broken record never swallows the
// records after it.
type Scanner struct {
	r   io.Reader
	max int

	buf        []byte
	start, end int
	eof        bool
	rerr       error
	off        int64 // stream offset of buf[start]
	line       int64 // line number of buf[start], from 1

	stack []byte // open containers: '[' array, 'w' records wrapper

	rec             []byte
	recLine, recOff int64
	err             *scanErr
}

// NewScanner returns a scanner over r. max <= 0 means DefaultMaxRecord.
func NewScanner(r io.Reader, max int) *Scanner {
	if max <= 0 {
		max = DefaultMaxRecord
	}
	return &Scanner{r: r, max: max, buf: make([]byte, 0, 64<<10), line: 1}
}

// Reset makes s scan r from its start, keeping its buffer.
func (s *Scanner) Reset(r io.Reader) {
	*s = Scanner{r: r, max: s.max, buf: s.buf[:0], line: 1, stack: s.stack[:0]}
}

// Record returns the current record. It is valid until the next call to
// Scan.
func (s *Scanner) Record() []byte { return s.rec }

// Line returns the line on which the current record (or error) starts.
func (s *Scanner) Line() int64 { return s.recLine }

// Offset returns the byte offset at which the current record starts.
func (s *Scanner) Offset() int64 { return s.recOff }

// Err returns the problem with the stretch of input Scan just passed over,
// when Scan returned true with no record; nil otherwise.
func (s *Scanner) Err() error {
	if s.err == nil {
		return nil
	}
	return s.err
}

// ReadErr returns the error that ended the stream, if it was not io.EOF.
func (s *Scanner) ReadErr() error { return s.rerr }

// Consumed returns the offset of the next unread byte: everything before it
// has been read.
func (s *Scanner) Consumed() int64 { return s.off }

// fill reads more input, keeping buf[start:end]. It returns false at the end
// of the input or when the buffer cannot grow past need bytes.
func (s *Scanner) fill() bool {
	if s.eof {
		return false
	}
	if s.start > 0 {
		n := copy(s.buf[:cap(s.buf)], s.buf[s.start:s.end])
		s.buf = s.buf[:n]
		s.end = n
		s.start = 0
	}
	if s.end == cap(s.buf) {
		if cap(s.buf) >= s.max+maxPrefix+64<<10 {
			return false
		}
		nb := make([]byte, s.end, 2*cap(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := s.r.Read(s.buf[s.end:cap(s.buf)])
		s.end += n
		s.buf = s.buf[:s.end]
		if err != nil {
			s.eof = true
			if !errors.Is(err, io.EOF) {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.eof = true
	s.rerr = io.ErrNoProgress
	return false
}

// consume passes over n bytes of the window, counting lines.
func (s *Scanner) consume(n int) {
	s.line += int64(bytes.Count(s.buf[s.start:s.start+n], nl))
	s.start += n
	s.off += int64(n)
}

var nl = []byte{'\n'}

func (s *Scanner) fail(line, off int64, format string, args ...any) bool {
	s.rec = nil
	s.recLine, s.recOff = line, off
	s.err = &scanErr{line: line, off: off, reason: fmt.Sprintf(format, args...)}
	return true
}

func (s *Scanner) emit(rec []byte, line, off int64) bool {
	s.rec = rec
	s.recLine, s.recOff = line, off
	s.err = nil
	return true
}

// Scan advances to the next record or problem. It returns false at the end
// of the input.
func (s *Scanner) Scan() bool {
	s.rec, s.err = nil, nil
	for {
		// Skip white space (and a byte-order mark, and commas between
		// array elements).
		for {
			if s.start == s.end && !s.fill() {
				return s.atEOF()
			}
			c := s.buf[s.start]
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' || (c == ',' && len(s.stack) > 0) {
				s.consume(1)
				continue
			}
			if c == 0xEF && s.off == 0 {
				if s.ensure(3) && bytes.HasPrefix(s.buf[s.start:s.end], []byte("\xEF\xBB\xBF")) {
					s.start += 3
					s.off += 3
					continue
				}
			}
			break
		}
		c := s.buf[s.start]
		switch {
		case c == ']' && len(s.stack) > 0:
			top := s.stack[len(s.stack)-1]
			s.stack = s.stack[:len(s.stack)-1]
			s.consume(1)
			if top == 'w' {
				// Pass over the rest of the wrapper object.
				line, off := s.line, s.off
				if _, ok := s.scanValue(1, false); !ok {
					return s.fail(line, off, "records wrapper is not closed")
				}
			}
			continue
		case c == '[':
			line, off := s.line, s.off
			s.consume(1)
			if len(s.stack) > 8 {
				return s.fail(line, off, "arrays nested too deeply")
			}
			s.stack = append(s.stack, '[')
			continue
		case c == '{':
			if s.wrapper() {
				continue
			}
			if len(s.stack) == 0 {
				if ok, done := s.lineRecord(); done {
					return ok
				}
			}
			return s.valueRecord()
		case len(s.stack) == 0:
			return s.prefixedLine()
		default:
			// Something other than an object inside an array.
			line, off := s.line, s.off
			if !s.skipScalar() {
				return s.fail(line, off, "array element is not a JSON object and is not closed")
			}
			return s.fail(line, off, "array element is not a JSON object")
		}
	}
}

func (s *Scanner) atEOF() bool {
	if len(s.stack) > 0 {
		s.stack = s.stack[:0]
		return s.fail(s.line, s.off, "input ends inside a JSON array (truncated file?)")
	}
	return false
}

// ensure makes at least n bytes available in the window if the input has
// them.
func (s *Scanner) ensure(n int) bool {
	for s.end-s.start < n {
		if !s.fill() {
			return false
		}
	}
	return true
}

// wrapper recognises `{"records":[` (or "Records") at the window's start
// and enters it.
func (s *Scanner) wrapper() bool {
	s.ensure(64)
	w := s.buf[s.start:s.end]
	i := 1
	skip := func() {
		for i < len(w) && (w[i] == ' ' || w[i] == '\t' || w[i] == '\r' || w[i] == '\n') {
			i++
		}
	}
	skip()
	var key string
	switch {
	case bytes.HasPrefix(w[i:], []byte(`"records"`)):
		key = `"records"`
	case bytes.HasPrefix(w[i:], []byte(`"Records"`)):
		key = `"Records"`
	default:
		return false
	}
	i += len(key)
	skip()
	if i >= len(w) || w[i] != ':' {
		return false
	}
	i++
	skip()
	if i >= len(w) || w[i] != '[' {
		return false
	}
	if len(s.stack) > 8 {
		return false
	}
	s.consume(i + 1)
	s.stack = append(s.stack, 'w')
	return true
}

// lineRecord takes a whole line as the record when it is one compact
// object: the JSON Lines fast path. done is false when the line does not end
// the object (a pretty-printed object), and the caller scans the value.
func (s *Scanner) lineRecord() (ok, done bool) {
	from := 0
	for {
		w := s.buf[s.start:s.end]
		i := bytes.IndexByte(w[from:], '\n')
		if i >= 0 {
			i += from
			line := trimLineEnd(w[:i])
			if len(line) > s.max {
				recLine, recOff := s.line, s.off
				s.consume(i + 1)
				return s.fail(recLine, recOff, "record longer than %d bytes", s.max), true
			}
			if len(line) < 2 || line[len(line)-1] != '}' {
				return false, false
			}
			recLine, recOff := s.line, s.off
			s.start += i + 1
			s.off += int64(i + 1)
			s.line++
			return s.emit(line, recLine, recOff), true
		}
		from = len(w)
		if len(w) > s.max {
			// Too long: fall back to the value scanner, which discards.
			return false, false
		}
		if !s.fill() {
			// Last line, without a newline.
			w = s.buf[s.start:s.end]
			line := trimLineEnd(w)
			if len(line) < 2 || line[len(line)-1] != '}' {
				return false, false
			}
			recLine, recOff := s.line, s.off
			s.start = s.end
			s.off += int64(len(w))
			return s.emit(line, recLine, recOff), true
		}
	}
}

// valueRecord scans one object value (possibly over many lines).
func (s *Scanner) valueRecord() bool {
	line, off := s.line, s.off
	if n := compactValueEnd(s.buf[s.start:s.end]); n > 0 && n <= s.max {
		// A one-line record whole in the window: no line to count.
		rec := s.buf[s.start : s.start+n]
		s.start += n
		s.off += int64(n)
		return s.emit(rec, line, off)
	}
	n, ok := s.scanValue(0, true)
	if !ok {
		if s.err != nil {
			return true
		}
		return s.fail(line, off, "record is not closed (truncated?)")
	}
	if n < 0 {
		return s.fail(line, off, "record longer than %d bytes", s.max)
	}
	rec := s.buf[s.start : s.start+n]
	s.consume(n)
	return s.emit(rec, line, off)
}

// scanValue scans a JSON value starting at the window (or, with depth 1, the
// rest of an open object). keep asks to return its length n without
// consuming it; without keep, or when the value is longer than max, it is
// consumed and n is -1. ok is false when the value is cut short; then the
// problem has been recorded with fail (when keep) and the input consumed up
// to the line where scanning can resume.
func (s *Scanner) scanValue(depth int, keep bool) (n int, ok bool) {
	line, off := s.line, s.off
	inStr, esc := false, false
	i := 0
	discarding := !keep
	for {
		if s.start+i >= s.end {
			if discarding && i > 0 {
				s.consume(i)
				i = 0
			}
			if !s.fill() {
				s.consume(i)
				if keep {
					s.fail(line, off, "record is not closed at the end of the input (truncated?)")
				}
				return 0, false
			}
			continue
		}
		c := s.buf[s.start+i]
		i++
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			case c == '\n':
				s.consume(i)
				if keep {
					s.fail(line, off, "record is cut short: a line ends inside a string")
				}
				return 0, false
			}
		} else {
			switch c {
			case '"':
				// Most of a record's bytes are inside strings: jump past
				// one that holds no escape and no line end within the
				// window, else go byte by byte.
				if j := plainStringEnd(s.buf[s.start+i : s.end]); j >= 0 {
					i += j + 1
				} else {
					inStr = true
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth <= 0 {
					if discarding {
						s.consume(i)
						return -1, true
					}
					return i, true
				}
			case '\n':
				// A new object at the start of a line while this one is open:
				// this one was cut short.
				if depth > 0 && (s.start+i < s.end || s.fill()) && s.buf[s.start+i] == '{' {
					s.consume(i)
					if keep {
						s.fail(line, off, "record is cut short: a new record starts before it is closed")
					}
					return 0, false
				}
			}
		}
		if !discarding && i > s.max {
			discarding = true
			s.consume(i)
			i = 0
		}
	}
}

// compactValueEnd returns the length of the object or array that starts
// w when it ends within w, on the same line, and its strings hold no
// escape: the records of an Event Hubs capture, all on one line. Else it
// returns -1, and scanValue reads the value as usual; where this returns
// a length, scanValue would return the same.
func compactValueEnd(w []byte) int {
	depth := 0
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case '"':
			j := plainStringEnd(w[i+1:])
			if j < 0 {
				return -1
			}
			i += j + 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth <= 0 {
				return i + 1
			}
		case '\n':
			return -1
		}
	}
	return -1
}

// skipScalar passes over a string, number or literal inside an array.
func (s *Scanner) skipScalar() bool {
	inStr := s.buf[s.start] == '"'
	esc := false
	s.consume(1)
	for {
		if s.start == s.end && !s.fill() {
			return !inStr
		}
		c := s.buf[s.start]
		if inStr {
			s.consume(1)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				return true
			case c == '\n':
				return false
			}
			continue
		}
		switch c {
		case ',', ']', '}', ' ', '\t', '\r', '\n':
			if c == '}' {
				s.consume(1) // a stray closer: pass it
			}
			return true
		}
		s.consume(1)
	}
}

// prefixedLine handles a line that does not start with '{': text before the
// object (an audit device's prefix) is dropped; a line with no object is a
// problem.
func (s *Scanner) prefixedLine() bool {
	line, off := s.line, s.off
	s.ensure(maxPrefix + 1)
	w := s.buf[s.start:s.end]
	lim := min(len(w), maxPrefix+1)
	j := bytes.IndexByte(w[:lim], '{')
	nlAt := bytes.IndexByte(w[:lim], '\n')
	if j < 0 || (nlAt >= 0 && nlAt < j) || !printable(w[:j]) {
		if _, ok := s.takeLine(); !ok {
			return s.fail(line, off, "line longer than %d bytes and not a JSON record", s.max)
		}
		if isBinary(w[:min(lim, len(w))]) {
			return s.fail(line, off, "binary data, not a JSON record")
		}
		return s.fail(line, off, "line is not a JSON record")
	}
	s.start += j
	s.off += int64(j)
	if s.wrapper() {
		return s.Scan()
	}
	ok, done := s.lineRecord()
	if done {
		if s.err == nil {
			s.recOff = off
		}
		return ok
	}
	return s.valueRecord()
}

// takeLine consumes one line and returns it (without the newline), or
// consumes an over-long line and returns false.
func (s *Scanner) takeLine() ([]byte, bool) {
	from := 0
	for {
		w := s.buf[s.start:s.end]
		if i := bytes.IndexByte(w[from:], '\n'); i >= 0 {
			i += from
			l := w[:i]
			s.start += i + 1
			s.off += int64(i + 1)
			s.line++
			return l, len(l) <= s.max
		}
		from = len(w)
		if len(w) > s.max {
			s.consume(len(w))
			from = 0
			// Keep discarding to the end of the line.
			for {
				if !s.fill() {
					return nil, false
				}
				w = s.buf[s.start:s.end]
				if i := bytes.IndexByte(w, '\n'); i >= 0 {
					s.consume(i + 1)
					return nil, false
				}
				s.consume(len(w))
			}
		}
		if !s.fill() {
			l := s.buf[s.start:s.end]
			s.off += int64(len(l))
			s.start = s.end
			return l, len(l) <= s.max
		}
	}
}

// trimLineEnd returns b without the spaces, tabs and carriage returns
// that end it.
func trimLineEnd(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', '\r':
			b = b[:len(b)-1]
		default:
			return b
		}
	}
	return b
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func isBinary(b []byte) bool {
	return bytes.IndexByte(b, 0) >= 0
}

// plainStringEnd returns the index of the first '"' in w when no '\\' or
// line end comes before it, else -1: the end of a string without escape
// whose text starts w.
func plainStringEnd(w []byte) int {
	if j := record.StringStop(w, 0, true); j >= 0 && w[j] == '"' {
		return j
	}
	return -1
}
