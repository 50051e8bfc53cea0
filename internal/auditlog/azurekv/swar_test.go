package azurekv

import (
	"bytes"
	"strings"
	"testing"
)

// TestStringStop checks stringStop and stringEnd against a byte-by-byte
// search, around the eight-byte words and the hand-over to IndexByte.
func TestStringStop(t *testing.T) {
	naive := func(b []byte, i int) int {
		for ; i < len(b); i++ {
			if b[i] == '"' || b[i] == '\\' {
				return i
			}
		}
		return -1
	}
	var cases []string
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 100} {
		pad := strings.Repeat("a", n)
		cases = append(cases, pad, pad+`"`, pad+`\`, pad+`\"`, pad+`"\`, pad+"\x80\xff\"", pad+`"`+pad, pad+`\`+pad+`"`)
	}
	for _, c := range cases {
		b := []byte(c)
		for i := 0; i <= len(b); i++ {
			if got, want := stringStop(b, i), naive(b, i); got != want {
				t.Errorf("stringStop(%q, %d) = %d, want %d", c, i, got, want)
			}
			if got, want := stringEnd(b, i, true), naive(b, i); got != want {
				t.Errorf("stringEnd(%q, %d, true) = %d, want %d", c, i, got, want)
			}
			if bytes.IndexByte(b, '\\') < 0 {
				if got, want := stringEnd(b, i, false), naive(b, i); got != want {
					t.Errorf("stringEnd(%q, %d, false) = %d, want %d", c, i, got, want)
				}
			}
		}
	}
}

// FuzzStringStop checks stringStop against a byte-by-byte search.
func FuzzStringStop(f *testing.F) {
	f.Add([]byte(`abcdefghijklmnop"q`), 0)
	f.Add([]byte(`ab\cdefghijklmnopqrstuvwxyz0123456789"`), 1)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		want := -1
		for j := i; j < len(b); j++ {
			if b[j] == '"' || b[j] == '\\' {
				want = j
				break
			}
		}
		if got := stringStop(b, i); got != want {
			t.Fatalf("stringStop(%q, %d) = %d, want %d", b, i, got, want)
		}
	})
}
