package hashivault

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// The Vault audit samples: JSON Lines, a pretty-printed stream and jsonx.
var vaultSamples = []string{
	"vault-audit-real-devserver.jsonl",
	"vault-audit-real-devserver-socket.jsonl",
	"vault-audit-real-devserver-lograw.jsonl",
	"vault-audit-real-devserver-jsonx.log",
	"vault-audit-elastic-integrations-test-audit.EXCERPT-lines3-6.jsonl",
	"vault-audit-tallen-hashicorp-tfc-jwt.json",
}

// readRecords returns the records of a sample file as JSON objects: a jsonx
// file is split and converted; a JSON file is read as a stream of values,
// arrays and {"Records":[...]} wrappers being opened.
func readRecords(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	if IsJSONX(data) {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		sc.Split(SplitJSONX)
		for sc.Scan() {
			rec, err := JSONX(sc.Bytes())
			if err != nil {
				t.Fatalf("%s: entry %d: %v", filepath.Base(path), len(recs)+1, err)
			}
			recs = append(recs, rec)
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return recs
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		recs = append(recs, unwrap(raw)...)
	}
	return recs
}

func unwrap(raw json.RawMessage) [][]byte {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) == nil {
		var out [][]byte
		for _, it := range items {
			out = append(out, unwrap(it)...)
		}
		return out
	}
	var w struct {
		Records  []json.RawMessage `json:"Records"`
		Records2 []json.RawMessage `json:"records"`
	}
	if json.Unmarshal(raw, &w) == nil && (w.Records != nil || w.Records2 != nil) {
		var out [][]byte
		for _, it := range append(w.Records, w.Records2...) {
			out = append(out, unwrap(it)...)
		}
		return out
	}
	return [][]byte{raw}
}

// decoded is the outcome of decoding a list of records.
type decoded struct {
	events    []event.Event
	skipped   map[string]int
	malformed []string
}

// decodeAll detects and decodes every record with one decoder, then
// flushes. A record is at line index+1 of file.
func decodeAll(t testing.TB, file string, recs [][]byte) decoded {
	t.Helper()
	var p fastjson.Parser
	d := NewDecoder()
	out := decoded{skipped: map[string]int{}}
	emit := func(e *event.Event) { out.events = append(out.events, *e) }
	for i, rec := range recs {
		v, err := p.ParseBytes(rec)
		if err != nil {
			out.malformed = append(out.malformed, err.Error())
			continue
		}
		if !Detect(v) {
			out.malformed = append(out.malformed, "not detected")
			continue
		}
		err = d.Decode(v, event.Location{File: file, Line: int64(i + 1)}, emit)
		if reason, ok := record.IsSkip(err); ok {
			out.skipped[reason]++
		} else if err != nil {
			out.malformed = append(out.malformed, err.Error())
		}
	}
	d.Flush(emit)
	return out
}

func sampleEvents(t *testing.T, name string) decoded {
	t.Helper()
	dir := sampleDir(t)
	out := decodeAll(t, name, readRecords(t, filepath.Join(dir, name)))
	if len(out.malformed) > 0 {
		t.Errorf("%s: %d malformed records: %s", name, len(out.malformed), strings.Join(out.malformed, "; "))
	}
	return out
}
