package auditlog

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
)

// scanAll returns "line: record" for records and "line: ! reason" for
// problems.
func scanAll(t *testing.T, in string, max int) []string {
	t.Helper()
	var out []string
	// One byte at a time proves no record depends on read boundaries.
	sc := NewScanner(iotest.OneByteReader(strings.NewReader(in)), max)
	for sc.Scan() {
		if err := sc.Err(); err != nil {
			out = append(out, fmt.Sprintf("%d: ! %v", sc.Line(), err))
			continue
		}
		out = append(out, fmt.Sprintf("%d: %s", sc.Line(), compact(sc.Record())))
	}
	if err := sc.ReadErr(); err != nil {
		out = append(out, "read error: "+err.Error())
	}
	return out
}

// compact removes white space outside strings, for readable expectations.
func compact(b []byte) string {
	var out []byte
	in := false
	esc := false
	for _, c := range b {
		switch {
		case in && esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

func TestScanner(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		max  int
		want []string
	}{
		{"json lines", "{\"a\":1}\n{\"b\":2}\n", 0, []string{`1: {"a":1}`, `2: {"b":2}`}},
		{"crlf, blank lines, no final newline", "{\"a\":1}\r\n\r\n\n  {\"b\":2}", 0, []string{`1: {"a":1}`, `4: {"b":2}`}},
		{"byte order mark", "\xEF\xBB\xBF{\"a\":1}\n", 0, []string{`1: {"a":1}`}},
		{"pretty stream", "{\n  \"a\": {\n    \"b\": 1\n  }\n}\n{\n  \"c\": \"}{\"\n}\n", 0,
			[]string{`1: {"a":{"b":1}}`, `6: {"c":"}{"}`}},
		{"array compact", `[{"a":1},{"b":2}]`, 0, []string{`1: {"a":1}`, `1: {"b":2}`}},
		{"array pretty", "[\n  {\n    \"a\": 1\n  },\n  {\"b\": [1, {\"c\": 2}]}\n]\n", 0,
			[]string{`2: {"a":1}`, `5: {"b":[1,{"c":2}]}`}},
		{"records wrapper", `{"records": [{"a":1}, {"b":2}]}` + "\n" + `{"records":[{"c":3}]}`, 0,
			[]string{`1: {"a":1}`, `1: {"b":2}`, `2: {"c":3}`}},
		{"Records wrapper pretty with trailing keys", "{\n \"Records\": [\n  {\"a\": 1},\n  {\"b\": 2}\n ],\n \"x\": {\"y\": [1]}\n}\n{\"c\":3}\n", 0,
			[]string{`3: {"a":1}`, `4: {"b":2}`, `8: {"c":3}`}},
		{"records not first key is left to the decoder", `{"x":1,"records":[{"a":1}]}`, 0, []string{`1: {"x":1,"records":[{"a":1}]}`}},
		{"prefix", "vault-audit: {\"a\":1}\nprefix {\"b\":{\"c\":2}}\n", 0, []string{`1: {"a":1}`, `2: {"b":{"c":2}}`}},
		{"line cut inside a string", "{\"a\":\"bro\n{\"b\":2}\n", 0,
			[]string{`1: ! record is cut short: a line ends inside a string`, `2: {"b":2}`}},
		{"line cut between keys", "{\"a\":{\"x\":1,\n{\"b\":2}\n", 0,
			[]string{`1: ! record is cut short: a new record starts before it is closed`, `2: {"b":2}`}},
		{"truncated at end of input", "{\"a\":1}\n{\"b\":{\"c\":", 0,
			[]string{`1: {"a":1}`, `2: ! record is not closed at the end of the input (truncated?)`}},
		{"over-long line", "{\"a\":\"" + strings.Repeat("x", 100) + "\"}\n{\"b\":2}\n", 64,
			[]string{`1: ! record longer than 64 bytes`, `2: {"b":2}`}},
		{"over-long pretty record", "{\n\"a\":\"" + strings.Repeat("x", 100) + "\"\n}\n{\"b\":2}\n", 64,
			[]string{`1: ! record longer than 64 bytes`, `4: {"b":2}`}},
		{"over-long line without newline", "{\"a\":\"" + strings.Repeat("x", 100), 64,
			[]string{`1: ! record is not closed at the end of the input (truncated?)`}},
		{"text line", "hello world\n{\"b\":2}\n", 0, []string{`1: ! line is not a JSON record`, `2: {"b":2}`}},
		{"stray closers", "}\n]\n{\"b\":2}\n", 0, []string{`1: ! line is not a JSON record`, `2: ! line is not a JSON record`, `3: {"b":2}`}},
		{"array of non-objects", `[1, "x", {"a":1}, [{"b":2}]]`, 0,
			[]string{`1: ! array element is not a JSON object`, `1: ! array element is not a JSON object`, `1: {"a":1}`, `1: {"b":2}`}},
		{"unclosed array", "[\n{\"a\":1},\n", 0, []string{`2: {"a":1}`, `3: ! input ends inside a JSON array (truncated file?)`}},
		{"empty", "", 0, nil},
		{"only space", "\n \n\t\n", 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := scanAll(t, tc.in, tc.max)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// A records wrapper far larger than the record limit is streamed element by
// element.
func TestScannerLargeWrapper(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	const n = 20000
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventID":"%d","pad":"%s"}`, i, strings.Repeat("p", 100))
	}
	b.WriteString(`]}`)
	if b.Len() < 2<<20 {
		t.Fatalf("input too small: %d", b.Len())
	}
	sc := NewScanner(strings.NewReader(b.String()), 1<<20)
	count := 0
	for sc.Scan() {
		if sc.Err() != nil {
			t.Fatalf("record %d: %v", count, sc.Err())
		}
		want := fmt.Sprintf(`{"eventID":"%d",`, count)
		if !bytes.HasPrefix(sc.Record(), []byte(want)) {
			t.Fatalf("record %d: got %.40s", count, sc.Record())
		}
		count++
	}
	if count != n {
		t.Fatalf("got %d records, want %d", count, n)
	}
	if cap(sc.buf) > 2<<20 {
		t.Errorf("buffer grew to %d bytes", cap(sc.buf))
	}
}

// An over-long line is passed over without being held whole.
func TestScannerLongLineBounded(t *testing.T) {
	in := "{\"a\":\"" + strings.Repeat("x", 5<<20) + "\"}\n{\"b\":2}\n"
	sc := NewScanner(strings.NewReader(in), 1<<20)
	var got []string
	for sc.Scan() {
		if sc.Err() != nil {
			got = append(got, "!"+sc.Err().Error())
		} else {
			got = append(got, string(sc.Record()))
		}
	}
	if len(got) != 2 || got[0] != "!record longer than 1048576 bytes" || got[1] != `{"b":2}` {
		t.Fatalf("got %q", got)
	}
	if cap(sc.buf) > 2<<20 {
		t.Errorf("buffer grew to %d bytes", cap(sc.buf))
	}
}

func TestScannerOffsets(t *testing.T) {
	in := "{\"a\":1}\n\n{\"b\":2}\n"
	sc := NewScanner(strings.NewReader(in), 0)
	var offs []int64
	for sc.Scan() {
		offs = append(offs, sc.Offset())
	}
	if fmt.Sprint(offs) != "[0 9]" {
		t.Fatalf("offsets %v", offs)
	}
	if sc.Consumed() != int64(len(in)) {
		t.Fatalf("consumed %d of %d", sc.Consumed(), len(in))
	}
}

func TestPlainStringEnd(t *testing.T) {
	naive := func(w []byte) int {
		for j, c := range w {
			switch c {
			case '"':
				return j
			case '\\', '\n':
				return -1
			}
		}
		return -1
	}
	var cases []string
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 31, 32, 33, 40, 100} {
		pad := strings.Repeat("a", n)
		cases = append(cases, pad, pad+`"`, pad+`\"`, pad+"\n\"", pad+`"\`, pad+"\"\n", pad+"\x80\xff\"", pad+`"`+pad, pad+`\`+pad+`"`)
	}
	for _, c := range cases {
		for i := 0; i <= len(c); i++ {
			w := []byte(c[i:])
			if got, want := plainStringEnd(w), naive(w); got != want {
				t.Errorf("plainStringEnd(%q) = %d, want %d", w, got, want)
			}
		}
	}
}

// valueEnd is what scanValue finds in w, byte by byte: the length of the
// object or array at its start, or -1 when it is not closed on w's first
// line.
func valueEnd(w []byte) int {
	depth, inStr, esc := 0, false, false
	for i, c := range w {
		switch {
		case c == '\n':
			return -1
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth--; depth <= 0 {
				return i + 1
			}
		}
	}
	return -1
}

func FuzzCompactValueEnd(f *testing.F) {
	for _, s := range []string{
		`{"a":"b"},{"c":1}`,
		`{"a":"b\"}"},`,
		`{"a":["}",{"b":"]"}]}`,
		"{\"a\":\"b\n\"}",
		`{"records":[{"a":1}]}`,
		`{"a":"` + strings.Repeat("x", 40) + `"}`,
		`[1,2,{"a":"\\"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, w []byte) {
		if len(w) == 0 || w[0] != '{' && w[0] != '[' {
			return
		}
		if n := compactValueEnd(w); n >= 0 && n != valueEnd(w) {
			t.Fatalf("compactValueEnd(%q) = %d, scanValue finds %d", w, n, valueEnd(w))
		}
	})
}
