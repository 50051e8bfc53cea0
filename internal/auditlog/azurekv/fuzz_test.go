package azurekv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// FuzzDecode feeds records to one decoder (so what it remembers between
// records is exercised too) and checks that it never panics, that it emits
// exactly one event or returns an error, and the invariants of the event.
func FuzzDecode(f *testing.F) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*", "input.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range inputs {
		for _, rec := range readRecords(f, in) {
			var buf bytes.Buffer
			if err := json.Compact(&buf, rec); err != nil {
				f.Fatal(err)
			}
			f.Add(buf.Bytes())
		}
	}
	if dir, ok := samplesDir(f); ok {
		if b, err := os.ReadFile(filepath.Join(dir, sampleLines)); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				f.Add(bytes.Clone(sc.Bytes()))
			}
		}
	}

	d := NewDecoder()
	var p fastjson.Parser
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := p.ParseBytes(data)
		if err != nil {
			return
		}
		checkTimeFastPath(t, v)
		if !Detect(v) {
			return
		}
		n := 0
		err = d.Decode(v, event.Location{File: "fuzz", Line: 1}, func(e *event.Event) {
			n++
			checkInvariants(t, e)
			if e.Source.File != "fuzz" {
				t.Errorf("source %+v", e.Source)
			}
		})
		switch {
		case err == nil && n != 1:
			t.Errorf("%d events and no error", n)
		case err != nil && n != 0:
			t.Errorf("%d events and error %v", n, err)
		}
		if err != nil {
			if _, skip := record.IsSkip(err); !skip && len(err.Error()) > 80 {
				t.Errorf("error %q is long: does it quote a value?", err)
			}
		}
	})
}

// checkTimeFastPath checks the fast timestamp parser against the generic
// one on the record's time fields.
func checkTimeFastPath(t *testing.T, v *fastjson.Value) {
	for _, k := range []string{"time", "TimeGenerated"} {
		b := v.GetStringBytes(k)
		fast, ok := parseUTC(b)
		if !ok {
			continue
		}
		slow, sok := record.ParseTime(b)
		if !sok || !fast.Equal(slow) || fast.Location() != time.UTC {
			t.Errorf("time %q: fast path %v, generic %v %v", b, fast, slow, sok)
		}
	}
}

// samplesDir returns the shared samples folder when present, without
// skipping as testutil.Samples does: seeds from it are optional.
func samplesDir(tb testing.TB) (string, bool) {
	dir := os.Getenv("VAULTWATCH_SAMPLES")
	if dir == "" {
		dir = filepath.Join(testutil.Root(tb), "..", "shared", "samples")
	}
	fi, err := os.Stat(dir)
	return dir, err == nil && fi.IsDir()
}
