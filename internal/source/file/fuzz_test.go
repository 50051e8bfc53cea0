package file

import (
	"bytes"
	"testing"
)

// FuzzCutPoint: a cut falls just after a newline that ends a line closing a
// record, and no later complete line closes one.
func FuzzCutPoint(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n{\"b\"", "{\n  \"a\": {\n  }\n}\n", "x\n}\n  }\n", "prefix: {}\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := cutPoint(b)
		if n == -1 {
			n = 0
		} else {
			if n < 1 || n > len(b) || b[n-1] != '\n' {
				t.Fatalf("cut at %d", n)
			}
			start := bytes.LastIndexByte(b[:n-1], '\n') + 1
			if !closesRecord(b[start : n-1]) {
				t.Fatalf("cut after %q", b[start:n-1])
			}
		}
		rest := b[n:]
		for {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			if closesRecord(rest[:i]) {
				t.Fatalf("a later line %q closes a record", rest[:i])
			}
			rest = rest[i+1:]
		}
	})
}

// FuzzDecodePosition: a cursor value read back is the one written, and no
// value makes the reader fail other than with an error.
func FuzzDecodePosition(f *testing.F) {
	f.Add(position{Offset: 120, Line: 4, FPLen: 64, FP: "00ff", Path: "a b/c.log"}.encode())
	f.Add(`{"offset":1}`)
	f.Fuzz(func(t *testing.T, v string) {
		p, err := decodePosition(v)
		if err != nil {
			return
		}
		q, err := decodePosition(p.encode())
		if err != nil || q != p {
			t.Fatalf("round trip: %+v -> %+v (%v)", p, q, err)
		}
	})
}
