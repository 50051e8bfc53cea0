package gcpaudit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// splitRecords splits a file into its records the simple way: a stream of
// JSON values (JSON Lines or pretty-printed objects), where an array
// contributes its elements and a {"Records": [...]} wrapper its records.
func splitRecords(tb testing.TB, data []byte) []json.RawMessage {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []json.RawMessage
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatalf("splitting records: %v", err)
		}
		switch raw[0] {
		case '[':
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				tb.Fatal(err)
			}
			out = append(out, items...)
		case '{':
			var w struct {
				Records []json.RawMessage `json:"Records"`
			}
			if err := json.Unmarshal(raw, &w); err == nil && w.Records != nil {
				out = append(out, w.Records...)
			} else {
				out = append(out, raw)
			}
		default:
			tb.Fatalf("unexpected JSON value starting with %q", raw[0])
		}
	}
}

// readRecords reads and splits a file.
func readRecords(tb testing.TB, path string) []json.RawMessage {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return splitRecords(tb, data)
}

// decoded is the outcome of decoding one record.
type decoded struct {
	events []event.Event
	err    error // nil, a skip or a malformed-record error
}

// decodeAll runs Detect and Decode over records, copying the events out.
// Record i is located at line i+1 of file.
func decodeAll(tb testing.TB, file string, recs []json.RawMessage) []decoded {
	tb.Helper()
	d := NewDecoder()
	var p fastjson.Parser
	out := make([]decoded, len(recs))
	for i, raw := range recs {
		v, err := p.ParseBytes(raw)
		if err != nil {
			tb.Fatalf("record %d: %v", i+1, err)
		}
		if !Detect(v) {
			tb.Errorf("record %d: Detect is false", i+1)
			continue
		}
		loc := event.Location{File: file, Line: int64(i + 1)}
		out[i].err = d.Decode(v, loc, func(e *event.Event) {
			out[i].events = append(out[i].events, *e)
		})
	}
	return out
}

// isSkip reports whether err is a skip.
func isSkip(err error) bool {
	_, ok := record.IsSkip(err)
	return ok
}
