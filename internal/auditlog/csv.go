package auditlog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// isCSVHeader reports whether head starts with the header row of a Log
// Analytics CSV export (the portal's "Export to CSV" of AzureDiagnostics or
// AZKVAuditLogs).
func isCSVHeader(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	line, _, _ := bytes.Cut(head, []byte{'\n'})
	if len(line) == 0 || line[0] == '{' || line[0] == '[' || line[0] == '<' {
		return false
	}
	return bytes.Contains(line, []byte{','}) && bytes.Contains(line, []byte("OperationName")) &&
		(bytes.Contains(line, []byte("TimeGenerated")) || bytes.Contains(line, []byte("time")))
}

// csvColumn turns a CSV header into the column name the JSON export uses:
// the portal writes "TimeGenerated [UTC]" and sometimes "[UTC]"-less names.
func csvColumn(h string) string {
	h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	if i := strings.Index(h, " ["); i > 0 && strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	return h
}

// readCSV reads a Log Analytics CSV export: every row becomes the JSON
// object of the same columns (empty cells left out), decoded like a JSON
// export row.
func (st *Stream) readCSV(name string, in io.Reader) error {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if !errors.As(err, &pe) {
			return fmt.Errorf("reading the CSV header: %w", err)
		}
		// A header that is not CSV: the file is one malformed record.
		st.stats.Records.Add(1)
		st.stats.problem(event.Location{File: name, Line: int64(pe.Line)}, "invalid CSV header: "+pe.Err.Error())
		return nil
	}
	cols := make([][]byte, len(header))
	for i, h := range header {
		cols[i] = record.AppendJSONString(nil, csvColumn(h))
	}
	var obj []byte
	for !st.halt {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				st.stats.Records.Add(1)
				st.stats.problem(event.Location{File: name, Line: int64(pe.Line)}, "invalid CSV: "+pe.Err.Error())
				continue
			}
			return err
		}
		line, _ := cr.FieldPos(0) // only after a row was read: it panics after an error
		loc := event.Location{File: name, Line: int64(line), Offset: cr.InputOffset()}
		if len(row) != len(cols) {
			st.stats.Records.Add(1)
			st.stats.problem(loc, fmt.Sprintf("CSV row has %d fields, the header %d", len(row), len(cols)))
			continue
		}
		obj = append(obj[:0], '{')
		for i, v := range row {
			if v == "" {
				continue
			}
			if len(obj) > 1 {
				obj = append(obj, ',')
			}
			obj = append(obj, cols[i]...)
			obj = append(obj, ':')
			obj = record.AppendJSONString(obj, v)
		}
		obj = append(obj, '}')
		if len(obj) > DefaultMaxRecord {
			st.stats.Records.Add(1)
			st.stats.problem(loc, fmt.Sprintf("record longer than %d bytes", DefaultMaxRecord))
			continue
		}
		st.Record(obj, loc)
	}
	return nil
}
