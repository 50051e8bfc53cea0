package socket

import (
	"bytes"
	"log/slog"
	"testing"
)

// FuzzFeed: the lines gathered from a connection do not depend on how its
// bytes were split into reads, and none is longer than MaxLine.
func FuzzFeed(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\n"), uint64(3))
	f.Add([]byte("short\n"+string(bytes.Repeat([]byte("x"), 40))+"\nafter\n"), uint64(0x1234567))
	f.Add([]byte("\n\n\npartial"), uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, splits uint64) {
		newReader := func() *connReader {
			l := &Listener{cfg: Config{MaxLine: 16}, log: slog.New(slog.DiscardHandler)}
			return &connReader{l: l, origin: "tcp fuzz", line: 1}
		}
		whole := newReader()
		whole.feed(data)
		pieces := newReader()
		rest := data
		for len(rest) > 0 {
			n := int(splits%7) + 1
			splits = splits/7 + 1
			n = min(n, len(rest))
			pieces.feed(rest[:n])
			rest = rest[n:]
		}
		if !bytes.Equal(whole.pending, pieces.pending) || !bytes.Equal(whole.partial, pieces.partial) ||
			whole.line != pieces.line || whole.start != pieces.start || whole.skipping != pieces.skipping {
			t.Fatalf("split reads differ: %q/%q line %d start %d, whole: %q/%q line %d start %d",
				pieces.pending, pieces.partial, pieces.line, pieces.start, whole.pending, whole.partial, whole.line, whole.start)
		}
		if whole.line != bytes.Count(data, []byte{'\n'})+1 {
			t.Fatalf("line %d after %d newlines", whole.line, bytes.Count(data, []byte{'\n'}))
		}
		for _, line := range bytes.Split(whole.pending, []byte{'\n'}) {
			if len(line) > 16 {
				t.Fatalf("a line of %d bytes passed", len(line))
			}
		}
		if whole.l.Status().Errors != pieces.l.Status().Errors {
			t.Fatalf("errors %d, split %d", whole.l.Status().Errors, pieces.l.Status().Errors)
		}
	})
}
