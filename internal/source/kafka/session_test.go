package kafka

import (
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// spans enters chunks of the given [start, next) spans of one partition.
func spans(b *book, tp topicPartition, hwm int64, s ...[2]int64) []*pending {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.tracker(tp, s[0][0], hwm)
	var ps []*pending
	for _, sp := range s {
		ps = append(ps, b.add(t, sp[0], sp[1], 3, false))
	}
	return ps
}

func committedAt(t *testing.T, b *book, tp topicPartition) (int64, bool) {
	t.Helper()
	offs := b.committable(nil)
	eo, ok := offs[tp.topic][tp.partition]
	if ok && eo.Epoch != 3 {
		t.Errorf("epoch %d", eo.Epoch)
	}
	return eo.Offset, ok
}

func TestBookCommitsOnlyTheDonePrefix(t *testing.T) {
	b := newBook()
	tp := topicPartition{"t", 0}
	ps := spans(b, tp, 10, [2]int64{0, 2}, [2]int64{2, 5}, [2]int64{5, 9})
	if got, _ := b.lag(); got != 10 {
		t.Errorf("lag %d, want 10", got)
	}
	for _, p := range ps {
		if !b.handOut(p) {
			t.Fatal("handOut refused")
		}
	}
	if n, _ := b.busy(); n != 3 {
		t.Errorf("outstanding %d", n)
	}

	// A later chunk done first commits nothing.
	if err := b.finish(ps[1], nil, "k"); err != nil {
		t.Fatal(err)
	}
	if off, ok := committedAt(t, b, tp); ok {
		t.Fatalf("committable %d before the first chunk is done", off)
	}
	if err := b.finish(ps[0], nil, "k"); err != nil {
		t.Fatal(err)
	}
	if off, ok := committedAt(t, b, tp); !ok || off != 5 {
		t.Fatalf("committable %d %v, want 5", off, ok)
	}
	if got, _ := b.lag(); got != 5 {
		t.Errorf("lag %d, want 5", got)
	}
	b.committed(tp, 5)
	if _, ok := committedAt(t, b, tp); ok {
		t.Error("committed offset offered again")
	}

	// A failure stops the prefix for good and is reported once.
	ps2 := spans(b, tp, 12, [2]int64{9, 10}, [2]int64{10, 12})
	for _, p := range ps2 {
		b.handOut(p)
	}
	cause := errors.New("disk full")
	err := b.finish(ps2[0], cause, "k")
	if err == nil || !errors.Is(err, cause) || !strings.Contains(err.Error(), "t/0@9") {
		t.Fatalf("failure error %v", err)
	}
	if err := b.finish(ps[2], nil, "k"); err != nil {
		t.Fatal(err)
	}
	if err := b.finish(ps2[1], nil, "k"); err != nil {
		t.Fatal(err)
	}
	if off, ok := committedAt(t, b, tp); !ok || off != 9 {
		t.Fatalf("committable %d %v, want 9 (not past the failed chunk)", off, ok)
	}
	if n, fail := b.busy(); n != 0 || !errors.Is(fail, cause) {
		t.Errorf("busy %d %v", n, fail)
	}
}

func TestBookEmptyChunkIsDone(t *testing.T) {
	b := newBook()
	tp := topicPartition{"t", 1}
	b.mu.Lock()
	tr := b.tracker(tp, 4, 6)
	b.add(tr, 4, 6, 3, true)
	b.mu.Unlock()
	if off, ok := committedAt(t, b, tp); !ok || off != 6 {
		t.Errorf("committable %d %v, want 6", off, ok)
	}
}

func TestBookDrop(t *testing.T) {
	b := newBook()
	t0, t1 := topicPartition{"t", 0}, topicPartition{"t", 1}
	p0 := spans(b, t0, 4, [2]int64{0, 4})[0]
	p1 := spans(b, t1, 7, [2]int64{3, 7})[0]
	b.handOut(p0)
	b.handOut(p1)
	b.drop(map[string][]int32{"t": {0}})
	if b.handOut(p0) {
		t.Error("handOut of a dropped partition's chunk")
	}
	if err := b.finish(p0, errors.New("late failure"), "k"); err != nil {
		t.Errorf("a dropped partition's failure stops the run: %v", err)
	}
	if err := b.finish(p1, nil, "k"); err != nil {
		t.Fatal(err)
	}
	offs := b.committable(nil)
	if _, ok := offs["t"][0]; ok || offs["t"][1].Offset != 7 {
		t.Errorf("committable %v", offs)
	}
	if only := b.committable(map[string][]int32{"t": {0}}); len(only) != 0 {
		t.Errorf("committable for a dropped partition: %v", only)
	}
	if got, _ := b.lag(); got != 0 {
		t.Errorf("lag %d", got)
	}
	b.close()
	if n, _ := b.busy(); n != 0 {
		t.Errorf("outstanding %d", n)
	}
	if len(b.committable(nil)) != 0 {
		t.Error("committable after close")
	}
}

func TestJoin(t *testing.T) {
	recs := func(vs ...string) []*kgo.Record {
		var rs []*kgo.Record
		for _, v := range vs {
			var b []byte
			if v != "" {
				b = []byte(v)
			}
			rs = append(rs, &kgo.Record{Value: b})
		}
		return rs
	}
	tests := []struct {
		name  string
		vals  []string
		max   int
		wantN int
		want  string
	}{
		{"newline added", []string{`{"a":1}`, `{"b":2}`}, 100, 2, "{\"a\":1}\n{\"b\":2}\n"},
		{"newline kept", []string{"{\"a\":1}\n{\"a\":2}\n", `{"b":2}`}, 100, 2, "{\"a\":1}\n{\"a\":2}\n{\"b\":2}\n"},
		{"tombstone", []string{"", `{"b":2}`}, 100, 2, "{\"b\":2}\n"},
		{"only tombstones", []string{"", ""}, 100, 2, ""},
		{"split at max", []string{"12345", "6789", "0"}, 11, 2, "12345\n6789\n"},
		{"one message over max", []string{"1234567890", "1"}, 4, 1, "1234567890\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, data := join(recs(tt.vals...), tt.max)
			if n != tt.wantN || string(data) != tt.want {
				t.Errorf("join = %d %q, want %d %q", n, data, tt.wantN, tt.want)
			}
		})
	}
}
