package auditlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"vaultwatch/internal/auditlog/hashivault"
	"vaultwatch/internal/event"
)

// isJSONX reports whether a stream starts like Vault's format=jsonx output,
// possibly after a device prefix.
func isJSONX(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	if i := bytes.IndexByte(head[:min(len(head), maxPrefix)], '<'); i > 0 && printable(head[:i]) && !bytes.ContainsAny(head[:i], "{[") {
		head = head[i:]
	}
	return hashivault.IsJSONX(head)
}

// readJSONX reads a Vault format=jsonx stream: XML entries written back to
// back, without newlines between them and with raw newlines inside values,
// so the stream is split by element structure, not by line.
func (st *Stream) readJSONX(name string, in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), DefaultMaxRecord+maxPrefix)
	var off, line int64 = 0, 1
	var entryOff, entryLine int64
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		adv, tok, err := hashivault.SplitJSONX(data, atEOF)
		if adv > 0 || tok != nil {
			// The entry starts where its first element does.
			start := 0
			if tok != nil {
				start = cap(data) - cap(tok) // tok is a slice of data
			}
			entryOff = off + int64(start)
			entryLine = line + int64(bytes.Count(data[:start], nl))
			off += int64(adv)
			line += int64(bytes.Count(data[:adv], nl))
		}
		return adv, tok, err
	})
	for !st.halt && sc.Scan() {
		loc := event.Location{File: name, Line: entryLine, Offset: entryOff}
		rec, err := hashivault.JSONX(sc.Bytes())
		if err != nil {
			st.stats.Records.Add(1)
			st.stats.problem(loc, err.Error())
			continue
		}
		st.Record(rec, loc)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			st.stats.Records.Add(1)
			st.stats.problem(event.Location{File: name, Line: line, Offset: off},
				fmt.Sprintf("jsonx entry longer than %d bytes: the rest of the stream is not read", DefaultMaxRecord))
			return nil
		}
		return err
	}
	return nil
}
