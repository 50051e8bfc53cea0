// Package auditlog reads vault access logs of every supported format from
// files, folders and streams, and turns each record into an event.Event.
//
// The reader splits the input into records (Scanner), parses each once with
// a reused fastjson parser, finds its format by sniffing the record (per
// record: files may mix formats), and hands it to that format's decoder.
// A decoder with a fast path for its format's common shape
// (record.RawDecoder) is first offered the bytes of the records that follow
// one of its own, and the parse is skipped when it takes them.
// Nothing is lost quietly: a record that cannot be read is counted and
// reported with its file, line and reason, and reading goes on.
package auditlog

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// MaxProblems is how many malformed-record reports Stats keeps in full; the
// rest are counted.
const MaxProblems = 100

// Problem is a record or file that could not be read, and why.
type Problem struct {
	Loc    event.Location
	Reason string
}

func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Loc.File != "":
		b.WriteString(p.Loc.File)
	case p.Loc.Source != "":
		b.WriteString(p.Loc.Source)
	default:
		b.WriteString("input")
	}
	if p.Loc.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Loc.Line)
	} else if p.Loc.Offset > 0 {
		fmt.Fprintf(&b, "@%d", p.Loc.Offset)
	}
	b.WriteString(": ")
	b.WriteString(p.Reason)
	return b.String()
}

// Stats counts what was read. The counters read by a progress reporter are
// atomic; the maps belong to the reading goroutine.
type Stats struct {
	Files     int
	Bytes     atomic.Int64 // input bytes read (compressed, for .gz)
	Records   atomic.Int64 // records seen: events' records, skipped and malformed
	Events    int64
	Malformed int64
	// NoTime counts events whose record had no time; they were given the
	// time of the event before them in the stream (or the time they were
	// read).
	NoTime int64

	ByFormat map[event.Format]int64 // records per format (including skipped)
	ByVault  map[event.Vault]int64  // events per vault
	Skipped  map[string]int64       // well-formed records of other services, by reason
	Problems []Problem              // the first MaxProblems malformed records
	Notes    []Problem              // files that held nothing (empty), not errors
}

// NewStats returns empty stats.
func NewStats() *Stats {
	return &Stats{
		ByFormat: map[event.Format]int64{},
		ByVault:  map[event.Vault]int64{},
		Skipped:  map[string]int64{},
	}
}

// SkippedTotal is the number of skipped records.
func (s *Stats) SkippedTotal() int64 {
	var n int64
	for _, v := range s.Skipped {
		n += v
	}
	return n
}

func (s *Stats) problem(loc event.Location, reason string) {
	s.Malformed++
	if len(s.Problems) < MaxProblems {
		s.Problems = append(s.Problems, Problem{Loc: loc, Reason: reason})
	}
}

// Stream decodes one input stream. It is not safe for concurrent use.
type Stream struct {
	formats  []record.Format
	decoders []record.Decoder
	raw      []record.RawDecoder // decoders[i] when it has a fast path, else nil
	last     int
	p        fastjson.Parser
	stats    *Stats
	out      record.Emit
	emitFn   record.Emit
	lastTime time.Time
	now      func() time.Time
	// halt stops reading the input at the next record (a merge that was
	// stopped, a probe that found what it looked for).
	halt bool

	// Counters kept here and settled into stats: per format (by index),
	// and for the vault of the last event.
	formatCount []int64
	vault       event.Vault
	vaultCount  int64
}

// NewStream returns a stream decoder that tries formats in order, counts into
// stats and hands every event to out.
func NewStream(formats []record.Format, stats *Stats, out record.Emit) *Stream {
	st := &Stream{
		formats:     formats,
		decoders:    make([]record.Decoder, len(formats)),
		raw:         make([]record.RawDecoder, len(formats)),
		formatCount: make([]int64, len(formats)),
		last:        -1,
		stats:       stats,
		out:         out,
		now:         time.Now,
	}
	st.emitFn = st.emit
	return st
}

func (st *Stream) emit(e *event.Event) {
	if e.Time.IsZero() {
		// A record without a time (reshaped or trimmed logs): it happened
		// no earlier than the record before it in the stream; with none
		// before it, when it was read.
		st.stats.NoTime++
		if st.lastTime.IsZero() {
			st.lastTime = st.now().UTC()
		}
		e.Time = st.lastTime
	} else {
		st.lastTime = e.Time
	}
	st.stats.Events++
	if e.Vault != st.vault {
		st.settle()
		st.vault = e.Vault
	}
	st.vaultCount++
	st.out(e)
}

// Record decodes one raw record found at loc.
func (st *Stream) Record(rec []byte, loc event.Location) {
	st.stats.Records.Add(1)
	if !utf8.Valid(rec) {
		st.stats.problem(loc, fmt.Sprintf("invalid UTF-8 at byte %d of the record", invalidAt(rec)))
		return
	}
	if st.last >= 0 && st.raw[st.last] != nil {
		// The fast path of the last record's format, which declines
		// records it is not sure of.
		if ok, err := st.raw[st.last].DecodeRaw(rec, loc, st.emitFn); ok {
			st.formatCount[st.last]++
			st.decoded(loc, err)
			return
		}
	}
	v, err := st.p.ParseBytes(rec)
	if err != nil {
		st.stats.problem(loc, "invalid JSON: "+cleanJSONError(err))
		return
	}
	if v.Type() != fastjson.TypeObject {
		st.stats.problem(loc, "record is not a JSON object")
		return
	}
	if st.dispatch(v, loc) {
		return
	}
	// A records wrapper that the scanner did not stream (its first key is
	// not "records"): looked for only once no format claims the object,
	// so that ordinary records pay nothing for it.
	for _, key := range [...]string{"records", "Records"} {
		if a := v.Get(key); a != nil && a.Type() == fastjson.TypeArray {
			items, _ := a.Array()
			st.stats.Records.Add(int64(len(items)) - 1)
			for i, item := range items {
				if item.Type() != fastjson.TypeObject {
					st.stats.problem(loc, fmt.Sprintf("%s[%d] is not a JSON object", key, i))
					continue
				}
				if !st.dispatch(item, loc) {
					st.stats.problem(loc, fmt.Sprintf("%s[%d]: %s", key, i, unknownFormat))
				}
			}
			return
		}
	}
	st.stats.problem(loc, unknownFormat)
}

const unknownFormat = "not a record of a known format (Azure Key Vault AuditEvent, Vault/OpenBao audit, CloudTrail, GCP audit log)"

// dispatch hands v to the decoder of its format. It returns false when no
// format claims v.
func (st *Stream) dispatch(v *fastjson.Value, loc event.Location) bool {
	i := st.last
	if i < 0 || !st.formats[i].Detect(v) {
		i = -1
		for j := range st.formats {
			if j != st.last && st.formats[j].Detect(v) {
				i = j
				break
			}
		}
		if i < 0 {
			return false
		}
		st.last = i
	}
	d := st.decoders[i]
	if d == nil {
		d = st.formats[i].New()
		st.decoders[i] = d
		st.raw[i], _ = d.(record.RawDecoder)
	}
	st.formatCount[i]++
	st.decoded(loc, d.Decode(v, loc, st.emitFn))
	return true
}

// decoded counts what a decoder's error says of the record at loc: skipped,
// malformed, or nothing for nil.
func (st *Stream) decoded(loc event.Location, err error) {
	if err == nil {
		return
	}
	if reason, ok := record.IsSkip(err); ok {
		st.stats.Skipped[reason]++
		return
	}
	st.stats.problem(loc, err.Error())
}

// settle moves the counters the stream keeps locally (cheaper per record
// than map updates) into the stats.
func (st *Stream) settle() {
	for i, n := range st.formatCount {
		if n > 0 {
			st.stats.ByFormat[st.formats[i].Name] += n
			st.formatCount[i] = 0
		}
	}
	if st.vaultCount > 0 {
		st.stats.ByVault[st.vault] += st.vaultCount
		st.vaultCount = 0
	}
}

// Flush emits what the decoders still hold and brings the stats up to
// date; call it at the end of the stream.
func (st *Stream) Flush() {
	for _, d := range st.decoders {
		if d != nil {
			d.Flush(st.emitFn)
		}
	}
	st.settle()
}

// ReadAll scans r, JSON records of any supported format, to its end,
// decoding every record, then flushes. name labels locations. It returns
// only the error that stopped reading the input (a read error); bad records
// are counted in the stats.
func (st *Stream) ReadAll(name string, r io.Reader) error {
	err := st.readAll(name, r)
	st.Flush()
	return err
}

// cleanJSONError keeps the parser's description of what is wrong and drops
// any quoted input: a record may hold a secret value.
func cleanJSONError(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "cannot parse JSON: ")
	if i := strings.Index(msg, "; unparsed tail"); i >= 0 {
		msg = msg[:i]
	}
	for _, cut := range []string{"unexpected value found:", "unexpected char:", "unexpected tail:"} {
		if i := strings.Index(msg, cut); i >= 0 {
			msg = msg[:i+len(cut)-1]
		}
	}
	if msg == "unexpected tail" {
		msg = "unexpected data after the record"
	}
	return msg
}

func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}
