package auditlog

import (
	"bytes"

	"vaultwatch/internal/event"
)

// ReadChunk decodes data, whole records from a live source, as the part of
// name that starts on line firstLine (1-based; 0 counts as 1),
// so that problems name the line in the source. Unlike ReadAll it does not
// flush: a Vault request in one chunk still pairs with its response in the
// next. Call Flush when the source goes quiet or ends.
func (st *Stream) ReadChunk(name string, firstLine int64, data []byte) {
	sc := NewScanner(bytes.NewReader(data), 0)
	shift := max(firstLine-1, 0)
	for sc.Scan() {
		loc := event.Location{File: name, Line: sc.Line() + shift, Offset: sc.Offset()}
		if err := sc.Err(); err != nil {
			st.stats.Records.Add(1)
			st.stats.problem(loc, err.Error())
			continue
		}
		st.Record(sc.Record(), loc)
	}
	st.settle()
}
