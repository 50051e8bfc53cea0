package detect

import (
	"bytes"
	"context"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/event"
	"vaultwatch/internal/intel"
	"vaultwatch/internal/simulate"
)

// TestStateFieldsListed walks the engine and every detector by reflection:
// every field of every struct their state is made of must be listed in
// stateFields, as saved or as not state. A field added without being
// listed (and so, probably, without being saved) fails here.
func TestStateFieldsListed(t *testing.T) {
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(typ.Elem(), path)
			return
		case reflect.Map:
			walk(typ.Key(), path)
			walk(typ.Elem(), path)
			return
		case reflect.Struct:
		default:
			return
		}
		if opaque(typ) || seen[typ] {
			return
		}
		seen[typ] = true
		name, _, _ := strings.Cut(typ.Name(), "[") // firstSeen[...] is firstSeen
		spec, ok := stateFields[name]
		if !ok {
			t.Errorf("%s: type %s.%s is not in stateFields", path, typ.PkgPath(), name)
			return
		}
		if spec == "json" {
			checkJSONType(t, typ, path, map[reflect.Type]bool{})
			return
		}
		listed := map[string]bool{} // field -> saved
		for _, f := range strings.Fields(spec) {
			n, skip := strings.CutPrefix(f, "-")
			listed[n] = !skip
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			saved, ok := listed[f.Name]
			if !ok {
				t.Errorf("%s.%s (%s) is not in stateFields: save it in SaveState and LoadState and list it, or list it as -%s if it is configuration",
					name, f.Name, path, f.Name)
				continue
			}
			delete(listed, f.Name)
			if saved {
				walk(f.Type, path+"."+f.Name)
			}
		}
		for f := range listed {
			t.Errorf("stateFields lists %s.%s, which does not exist", name, f)
		}
	}
	walk(reflect.TypeFor[Engine](), "Engine")
	for _, d := range Detectors() {
		typ := reflect.TypeOf(d)
		walk(typ, typ.String())
		spec := stateFields[strings.TrimPrefix(typ.String(), "*detect.")]
		hasState := slices.ContainsFunc(strings.Fields(spec), func(f string) bool { return !strings.HasPrefix(f, "-") })
		if _, ok := d.(stateful); ok != hasState {
			t.Errorf("%s: has state %v, implements stateful %v", typ, hasState, ok)
		}
	}
}

// opaque reports whether a type is written whole (times, addresses).
func opaque(typ reflect.Type) bool {
	return typ.Implements(reflect.TypeFor[encoding.BinaryMarshaler]()) ||
		reflect.PointerTo(typ).Implements(reflect.TypeFor[json.Unmarshaler]()) ||
		reflect.PointerTo(typ).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// checkJSONType fails when a type written as JSON has a field JSON leaves
// out.
func checkJSONType(t *testing.T, typ reflect.Type, path string, seen map[reflect.Type]bool) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
		if typ.Kind() == reflect.Map {
			checkJSONType(t, typ.Key(), path, seen)
		}
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct || opaque(typ) || seen[typ] {
		return
	}
	seen[typ] = true
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() || f.Tag.Get("json") == "-" {
			t.Errorf("%s: %s.%s is written as JSON, which leaves out its field %s", path, typ.PkgPath(), typ.Name(), f.Name)
			continue
		}
		checkJSONType(t, f.Type, path+"."+f.Name, seen)
	}
}

// scenarioEvents returns the events of every scenario under testdata, in
// time order.
func scenarioEvents(t *testing.T) []event.Event {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*", "events.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	var evs []event.Event
	for _, f := range files {
		evs = append(evs, readEvents(t, f)...)
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	return evs
}

// simulated is a simulated organisation's events (12 days, 4 vaults, 3
// learning days), in time order, and the engine configuration it is
// scanned with: its threat-intel lists and decoys, and a learning period of
// its learning days.
type simulated struct {
	events []event.Event
	cfg    Config
	err    error
}

var simOnce = sync.OnceValue(func() *simulated {
	s := &simulated{}
	s.err = s.build()
	return s
})

func (s *simulated) build() error {
	dir, err := os.MkdirTemp("", "vaultwatch-state-test-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	if _, err := simulate.Run(ctx, simulate.Options{Out: dir, Seed: 11, Vaults: 4, Days: 12, LearningDays: 3}); err != nil {
		return err
	}
	r := auditlog.NewReader(func(e *event.Event) { s.events = append(s.events, *e) })
	if err := r.ReadPaths(ctx, []string{filepath.Join(dir, simulate.LogsDir)}); err != nil {
		return err
	}
	if r.Stats.Malformed > 0 {
		return fmt.Errorf("%d malformed records: %v", r.Stats.Malformed, r.Stats.Problems)
	}
	sort.SliceStable(s.events, func(i, j int) bool { return s.events[i].Time.Before(s.events[j].Time) })
	set := intel.New()
	if err := set.LoadFile(filepath.Join(dir, "intel", "tor-exit-nodes.txt"), "tor"); err != nil {
		return err
	}
	if err := set.LoadFile(filepath.Join(dir, "intel", "ip-reputation.txt"), "list"); err != nil {
		return err
	}
	f, err := os.Open(filepath.Join(dir, simulate.DecoysFile))
	if err != nil {
		return err
	}
	defer f.Close()
	decoys, err := ParseDecoys(f, simulate.DecoysFile)
	if err != nil {
		return err
	}
	s.cfg = Config{Intel: set, Decoys: decoys, LearningPeriod: 3 * 24 * time.Hour}
	return nil
}

func simulation(t *testing.T) *simulated {
	t.Helper()
	if testing.Short() {
		t.Skip("simulates an organisation: not with -short")
	}
	s := simOnce()
	if s.err != nil {
		t.Fatalf("simulation: %v", s.err)
	}
	return s
}

// byDay splits time-ordered events by UTC day.
func byDay(evs []event.Event) [][]event.Event {
	var parts [][]event.Event
	start := 0
	for i := 1; i <= len(evs); i++ {
		if i == len(evs) || !sameDay(evs[i].Time, evs[start].Time) {
			parts = append(parts, evs[start:i])
			start = i
		}
	}
	return parts
}

func sameDay(a, b time.Time) bool {
	return a.UTC().Truncate(24 * time.Hour).Equal(b.UTC().Truncate(24 * time.Hour))
}

// inChunks splits events into n parts of about the same size, cutting
// anywhere in the day.
func inChunks(evs []event.Event, n int) [][]event.Event {
	var parts [][]event.Event
	for i := range n {
		parts = append(parts, evs[i*len(evs)/n:(i+1)*len(evs)/n])
	}
	return parts
}

// scanResult is what scanning in parts produced.
type scanResult struct {
	alerts map[string]string // alert id -> its last JSON
	// carried counts the alerts handed out still open at the end of a
	// part and handed out changed by a later part.
	carried int
	stats   Stats
}

// scanParts scans the parts with one engine each. With state, each engine
// loads the state the previous one saved (through bytes), hands out its
// still-open alerts with Checkpoint and saves its own; without, each
// starts afresh and flushes. One part is one scan over everything.
func scanParts(t *testing.T, cfg Config, parts [][]event.Event, withState bool) scanResult {
	t.Helper()
	res := scanResult{alerts: map[string]string{}}
	open := map[string]string{}
	var state []byte
	for i, part := range parts {
		record := func(a *alert.Alert) {
			b, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			if was, ok := open[a.ID]; ok && was != string(b) {
				res.carried++
			}
			delete(open, a.ID)
			res.alerts[a.ID] = string(b)
		}
		e := New(cfg, Detectors(), record)
		if state != nil {
			if err := e.LoadState(bytes.NewReader(state)); err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
		}
		for j := range part {
			e.Process(&part[j])
		}
		if !withState || i == len(parts)-1 && len(parts) == 1 {
			e.Flush()
		} else {
			e.Checkpoint(func(a *alert.Alert) {
				record(a)
				open[a.ID] = res.alerts[a.ID]
			})
			var buf bytes.Buffer
			if err := e.SaveState(&buf); err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			state = buf.Bytes()
		}
		res.stats = e.Stats
	}
	return res
}

// diffAlerts describes how two alert sets differ, or returns "".
func diffAlerts(got, want map[string]string) string {
	var b strings.Builder
	n := 0
	for _, id := range slices.Sorted(mapsKeys(got, want)) {
		if got[id] == want[id] {
			continue
		}
		if n++; n > 3 {
			continue
		}
		fmt.Fprintf(&b, "alert %s:\n got: %.600s\nwant: %.600s\n", id, got[id], want[id])
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d alerts differ (%d in all)\n%s", n, len(want), len(got), b.String())
}

func mapsKeys(ms ...map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		done := map[string]bool{}
		for _, m := range ms {
			for k := range m {
				if !done[k] {
					done[k] = true
					if !yield(k) {
						return
					}
				}
			}
		}
	}
}

// TestStateDayByDayEqualsOneScan scans events day by day, each day's engine
// loading the state the day before saved and handing out its still-open
// alerts, and checks that the final alerts (the last version of each id)
// are one scan's over all the days: the same ids, the same JSON. It checks
// too that the comparison can fail: day by day without state differs.
func TestStateDayByDayEqualsOneScan(t *testing.T) {
	tests := []struct {
		name   string
		events func(t *testing.T) ([]event.Event, Config)
		split  func([]event.Event) [][]event.Event
		// carried: open alerts must be seen crossing a boundary.
		carried bool
	}{
		{"scenarios by day", func(t *testing.T) ([]event.Event, Config) { return scenarioEvents(t), testConfig(t) }, byDay, false},
		{"simulation by day", func(t *testing.T) ([]event.Event, Config) { s := simulation(t); return s.events, s.cfg }, byDay, false},
		{"simulation in 40 parts", func(t *testing.T) ([]event.Event, Config) { s := simulation(t); return s.events, s.cfg },
			func(evs []event.Event) [][]event.Event { return inChunks(evs, 40) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, cfg := tt.events(t)
			parts := tt.split(evs)
			if len(parts) < 5 {
				t.Fatalf("%d events in only %d parts", len(evs), len(parts))
			}
			one := scanParts(t, cfg, [][]event.Event{evs}, true)
			if len(one.alerts) < 10 {
				t.Fatalf("one scan raised only %d alerts: too few to compare", len(one.alerts))
			}
			parted := scanParts(t, cfg, parts, true)
			if d := diffAlerts(parted.alerts, one.alerts); d != "" {
				t.Errorf("%d parts with state differ from one scan: %s", len(parts), d)
			}
			if parted.stats.Events != one.stats.Events || parted.stats.Findings != one.stats.Findings {
				t.Errorf("stats: %+v in parts, %+v in one scan", parted.stats, one.stats)
			}
			if tt.carried && parted.carried == 0 {
				t.Error("no open alert was carried from one part to the next: the test does not test that")
			}
			fresh := scanParts(t, cfg, parts, false)
			if diffAlerts(fresh.alerts, one.alerts) == "" {
				t.Error("scanning in parts without state gives one scan's alerts too: the test cannot tell")
			}
			t.Logf("%d events in %d parts: %d alerts, %d carried open across parts; %d alerts without state",
				len(evs), len(parts), len(one.alerts), parted.carried, len(fresh.alerts))
		})
	}
}

// TestStateRoundTrip runs the simulation through an engine and, every few
// thousand events, saves its state, loads it into a fresh engine, checks
// that everything the engine and the detectors hold is equal and that
// saving again gives the same bytes. Open alerts and an application's
// held-back network must have been among what was saved, and every
// detector with state must have some at the end: otherwise the check
// proves nothing for them.
func TestStateRoundTrip(t *testing.T) {
	s := simulation(t)
	a := New(s.cfg, Detectors(), func(*alert.Alert) {})
	var open, pending, checks int
	var ip *UnusualIP
	for _, d := range a.detectors {
		if u, ok := d.(*UnusualIP); ok {
			ip = u
		}
	}
	var lastHeld *pendingNet
	for i := range s.events {
		ev := &s.events[i]
		a.Process(ev)
		// Every 2,000 events, and whenever a network is newly held back
		// (they seldom stay held for long).
		held := false
		if p := ip.pairs[vp{ev.Vault.ID, principalKey(ev)}]; p != nil && p.pending != nil && p.pending != lastHeld {
			lastHeld, held = p.pending, true
		}
		if i%2000 != 1999 && i != len(s.events)-1 && !held {
			continue
		}
		checks++
		open = max(open, len(a.agg.open))
		for _, p := range ip.pairs {
			if p.pending != nil {
				pending++
			}
		}
		roundTrip(t, a, i+1)
		if t.Failed() {
			return
		}
	}
	if open == 0 || pending == 0 {
		t.Errorf("in %d round trips, at most %d open alerts and %d held-back networks: the test does not test them", checks, open, pending)
	}
	for _, d := range a.detectors {
		sd, ok := d.(stateful)
		if !ok {
			continue
		}
		w := &stateWriter{index: map[string]uint64{}}
		sd.saveState(w)
		if len(w.buf) < 20 {
			t.Errorf("%T holds almost nothing (%d bytes) after the simulation: the round trip does not test it", d, len(w.buf))
		}
		t.Logf("%-30s %7d bytes", stateName(d), len(w.buf))
	}
	var buf bytes.Buffer
	if err := a.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("state: %d bytes, %d strings, %d (vault, principal) pairs; %d round trips, up to %d open alerts, %d held-back networks",
		buf.Len(), len(a.stateStrings()), len(a.onVault.m), checks, open, pending)
}

// roundTrip saves a's state, loads it into a fresh engine, and compares.
func roundTrip(t *testing.T, a *Engine, events int) {
	t.Helper()
	var first bytes.Buffer
	if err := a.SaveState(&first); err != nil {
		t.Fatal(err)
	}
	b := New(a.cfg, Detectors(), func(*alert.Alert) {})
	if err := b.LoadState(bytes.NewReader(first.Bytes())); err != nil {
		t.Fatalf("after %d events: %v", events, err)
	}
	var second bytes.Buffer
	if err := b.SaveState(&second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("after %d events: save, load, save: %d bytes, then %d different bytes", events, first.Len(), second.Len())
	}
	compareEngines(t, a, b)
	if t.Failed() {
		t.Logf("after %d events", events)
	}
}

// stateStrings returns the engine's state's string table, for the log.
func (e *Engine) stateStrings() []string {
	var buf bytes.Buffer
	if e.SaveState(&buf) != nil {
		return nil
	}
	r, err := openState(buf.Bytes())
	if err != nil {
		return nil
	}
	return r.strs
}

// compareEngines fails on any difference in what a and b learned.
func compareEngines(t *testing.T, a, b *Engine) {
	t.Helper()
	dropRecentAll(a)
	dropRecentAll(b)
	for _, f := range []struct {
		name string
		x, y any
	}{
		{"Stats", a.Stats, b.Stats},
		{"vaults", a.vaults, b.vaults},
		{"anywhere", a.anywhere, b.anywhere},
		{"onVault", a.onVault, b.onVault},
		{"nets", a.nets, b.nets},
		{"readers", a.readers, b.readers},
		{"names", a.names, b.names},
		{"lastSweep", a.agg.lastSweep, b.agg.lastSweep},
	} {
		if !reflect.DeepEqual(f.x, f.y) {
			t.Errorf("engine %s differs after a round trip", f.name)
		}
	}
	// And everything else, so that a field added to the engine is compared
	// too: the whole engine but its configuration and wiring, and the open
	// alerts, compared below.
	x, y := *a, *b
	for _, e := range []*Engine{&x, &y} {
		e.cfg, e.detectors, e.ctx, e.ev = Config{}, nil, Context{}, nil
		e.agg.open, e.agg.byVP, e.agg.emit, e.agg.stats, e.agg.readers = nil, nil, nil, nil, nil
	}
	if !reflect.DeepEqual(x, y) {
		t.Error("the engine differs after a round trip")
	}
	if len(a.agg.open) != len(b.agg.open) {
		t.Errorf("%d open alerts, %d after a round trip", len(a.agg.open), len(b.agg.open))
	}
	for k, x := range a.agg.open {
		y, ok := b.agg.open[k]
		if !ok {
			t.Errorf("open alert %q lost", k)
			continue
		}
		// The alert goes through JSON: compare it as JSON (an empty list
		// and no list are the same there).
		ja, _ := json.Marshal(&x.a)
		jb, _ := json.Marshal(&y.a)
		if !bytes.Equal(ja, jb) {
			t.Errorf("open alert %q:\n%s\n%s", k, ja, jb)
		}
		if x.key != y.key || x.vp != y.vp || x.net != y.net || !reflect.DeepEqual(x.objects, y.objects) || !reflect.DeepEqual(x.seen, y.seen) {
			t.Errorf("open alert %q: bookkeeping differs", k)
		}
		if !slices.Contains(b.agg.byVP[y.vp], y) {
			t.Errorf("open alert %q not indexed by its caller", k)
		}
	}
	for k, l := range a.agg.byVP {
		if len(b.agg.byVP[k]) != len(l) {
			t.Errorf("open alerts of %v: %d, %d after a round trip", k, len(l), len(b.agg.byVP[k]))
		}
	}
	for i, d := range a.detectors {
		if !reflect.DeepEqual(d, b.detectors[i]) {
			t.Errorf("%T differs after a round trip", d)
		}
	}
}

// TestCheckpoint checks that Checkpoint hands out copies of the open
// alerts that do not change as the engine goes on, under the id the
// finished alert gets.
func TestCheckpoint(t *testing.T) {
	evs := scenarioEvents(t)
	final := map[string]bool{}
	e := New(testConfig(t), Detectors(), func(a *alert.Alert) { final[a.ID] = true })
	type copied struct {
		a    *alert.Alert
		json string
	}
	var got []copied
	for i := range evs {
		e.Process(&evs[i])
		if i%50 == 49 {
			e.Checkpoint(func(a *alert.Alert) {
				b, _ := json.Marshal(a)
				got = append(got, copied{a, string(b)})
			})
		}
	}
	e.Flush()
	if len(got) == 0 {
		t.Fatal("no alert was ever open at a checkpoint")
	}
	for _, c := range got {
		if b, _ := json.Marshal(c.a); string(b) != c.json {
			t.Errorf("alert %s changed after it was handed out", c.a.ID)
		}
		if c.a.ID == "" || c.a.Title == "" || len(c.a.Remediation) == 0 {
			t.Errorf("alert %s not filled in: %s", c.a.ID, c.json)
		}
		if !final[c.a.ID] {
			t.Errorf("open alert %s (%s) was finished under another id", c.a.ID, c.a.Type)
		}
	}
}

// TestLoadStateBad checks that a state that is not one, of another
// version, truncated or corrupt is refused with ErrBadState, and that the
// engine is left as it was and goes on working.
func TestLoadStateBad(t *testing.T) {
	evs := scenarioEvents(t)
	half := len(evs) / 2
	var good bytes.Buffer
	{
		e := New(testConfig(t), Detectors(), func(*alert.Alert) {})
		for i := range evs[:half] {
			e.Process(&evs[i])
		}
		if err := e.SaveState(&good); err != nil {
			t.Fatal(err)
		}
	}
	g := good.Bytes()
	withCRC := func(body []byte) []byte {
		return binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.ChecksumIEEE(body))
	}
	body := g[:len(g)-4]
	cases := map[string][]byte{
		"empty":         nil,
		"not a state":   []byte(`{"alerts": []}`),
		"other magic":   append([]byte("VWSX"), g[4:]...),
		"other version": withCRC(append([]byte("VWST\x02"), body[5:]...)),
		"flipped byte":  append(append(slices.Clone(g[:len(g)/2]), g[len(g)/2]^0x40), g[len(g)/2+1:]...),
		"trailing byte": withCRC(append(slices.Clone(body), 0)),
		"body cut":      withCRC(body[:len(body)-1]),
	}
	for n := 0; n < len(g); n += 1 + n/8 {
		cases[fmt.Sprintf("truncated to %d bytes", n)] = g[:n]
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			var alerts []string
			e := New(testConfig(t), Detectors(), func(a *alert.Alert) { alerts = append(alerts, a.ID) })
			if err := e.LoadState(bytes.NewReader(g)); err != nil {
				t.Fatal(err)
			}
			err := e.LoadState(bytes.NewReader(data))
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("err = %v, want ErrBadState", err)
			}
			var after bytes.Buffer
			if err := e.SaveState(&after); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after.Bytes(), g) {
				t.Fatalf("the engine changed on a refused state (%v)", err)
			}
			for i := range evs[half:] {
				e.Process(&evs[half+i])
			}
			e.Flush()
			if len(alerts) == 0 {
				t.Error("the engine raised nothing after a refused state")
			}
		})
	}
	t.Run("message", func(t *testing.T) {
		e := New(Config{}, Detectors(), func(*alert.Alert) {})
		err := e.LoadState(bytes.NewReader(withCRC(append([]byte("VWST\x07"), body[5:]...))))
		if err == nil || !strings.Contains(err.Error(), "version 7") {
			t.Errorf("err = %v, want one naming version 7", err)
		}
	})
}

// TestLoadStateSettings: a detector's settings left at zero take the
// saved ones; one set to another value refuses the state.
func TestLoadStateSettings(t *testing.T) {
	evs := scenarioEvents(t)
	a := New(testConfig(t), Detectors(), func(*alert.Alert) {})
	for i := range evs {
		a.Process(&evs[i])
	}
	var buf bytes.Buffer
	if err := a.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	ds := Detectors()
	b := New(testConfig(t), ds, func(*alert.Alert) {})
	if err := b.LoadState(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if db, ok := d.(*DestructiveBurst); ok && (db.Objects != 5 || db.Window != 10*time.Minute) {
			t.Errorf("DestructiveBurst settings after load: %d, %s", db.Objects, db.Window)
		}
	}
	ds = Detectors()
	for _, d := range ds {
		if db, ok := d.(*DestructiveBurst); ok {
			db.Objects = 7
		}
	}
	c := New(testConfig(t), ds, func(*alert.Alert) {})
	err := c.LoadState(bytes.NewReader(buf.Bytes()))
	if !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), "Objects is 7") {
		t.Errorf("err = %v, want one naming the setting", err)
	}
}

// FuzzLoadState feeds LoadState corrupt bodies with a valid checksum (so
// that the decoder itself is exercised): it must not panic, and a state it
// accepts must save again.
func FuzzLoadState(f *testing.F) {
	var buf bytes.Buffer
	e := New(Config{}, Detectors(), func(*alert.Alert) {})
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := range 200 {
		ev := event.Event{Time: t0.Add(time.Duration(i) * time.Minute), Provider: event.ProviderAzureKeyVault,
			Vault:     event.Vault{ID: fmt.Sprintf("v%d", i%3), Name: "kv"},
			Operation: event.Operation{Name: "SecretDelete", Class: event.ClassDelete},
			Object:    event.Object{Kind: event.KindSecret, Name: fmt.Sprintf("s%d", i%7)},
			Caller:    event.Caller{Type: event.IdentityUser, ObjectID: fmt.Sprintf("u%d", i%4)},
			IP:        netip.AddrFrom4([4]byte{20, 1, byte(i % 5), 1}), Result: event.Result{Outcome: event.OutcomeSuccess}}
		e.Process(&ev)
	}
	if err := e.SaveState(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes()[:buf.Len()-4])
	f.Fuzz(func(t *testing.T, body []byte) {
		data := binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.ChecksumIEEE(body))
		e := New(Config{}, Detectors(), func(*alert.Alert) {})
		if err := e.LoadState(bytes.NewReader(data)); err != nil {
			if !errors.Is(err, ErrBadState) {
				t.Fatalf("error without ErrBadState: %v", err)
			}
			return
		}
		if err := e.SaveState(&bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
	})
}

// benchEngine is an engine that has learned a synthetic organisation for
// ten days: 2,000 callers (a third of them people), each on 5 of 100
// vaults, reading, listing, and decrypting from their networks.
func benchEngine(b *testing.B) *Engine {
	b.Helper()
	const vaults, callers, perCaller, days = 100, 2000, 5, 10
	e := New(Config{}, Detectors(), func(*alert.Alert) {})
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	ops := []event.Operation{{Name: "SecretGet", Class: event.ClassRead}, {Name: "SecretList", Class: event.ClassList},
		{Name: "KeyUnwrapKey", Class: event.ClassCrypto}, {Name: "SecretGet", Class: event.ClassRead}}
	var evs []event.Event
	for day := range days {
		for c := range callers {
			typ, app := event.IdentityServicePrincipal, fmt.Sprintf("app-%05d", c)
			upn := ""
			if c%3 == 0 {
				typ, app, upn = event.IdentityUser, "04b07795-8ddb-461a-bbee-02f9e1bf7b46", fmt.Sprintf("user%05d@contoso.com", c)
			}
			for k := range perCaller {
				v := (c*7 + k*13) % vaults
				op := ops[(c+k+day)%len(ops)]
				kind := event.KindSecret
				if op.Class == event.ClassCrypto {
					kind = event.KindKey
				}
				evs = append(evs, event.Event{
					Time:     t0.Add(time.Duration(day)*24*time.Hour + time.Duration(c*perCaller+k)*time.Second*4),
					Provider: event.ProviderAzureKeyVault,
					Vault: event.Vault{ID: fmt.Sprintf("/subscriptions/s/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv-%03d", v),
						Name: fmt.Sprintf("kv-%03d", v)},
					Operation: op,
					Object:    event.Object{Kind: kind, Name: fmt.Sprintf("svc%03d-secret-%d", v, (c+day)%20)},
					Caller:    event.Caller{Type: typ, ObjectID: fmt.Sprintf("%08d-0000-4000-8000-000000000000", c), AppID: app, UPN: upn},
					IP:        netip.AddrFrom4([4]byte{20, byte(c % 200), byte(day % 3), byte(1 + c%250)}),
					Result:    event.Result{Outcome: event.OutcomeSuccess, Status: 200},
				})
			}
		}
	}
	for i := range evs {
		e.Process(&evs[i])
	}
	return e
}

// BenchmarkSaveState saves a learned organisation's state; it reports the
// state's size per (vault, principal) pair.
func BenchmarkSaveState(b *testing.B) {
	e := benchEngine(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := e.SaveState(&buf); err != nil {
			b.Fatal(err)
		}
	}
	pairs := len(e.onVault.m)
	b.ReportMetric(float64(buf.Len())/float64(pairs), "bytes/pair")
	b.ReportMetric(float64(buf.Len()), "bytes")
	b.SetBytes(int64(buf.Len()))
}

// BenchmarkLoadState loads it.
func BenchmarkLoadState(b *testing.B) {
	e := benchEngine(b)
	var buf bytes.Buffer
	if err := e.SaveState(&buf); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		x := New(Config{}, Detectors(), func(*alert.Alert) {})
		if err := x.LoadState(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/float64(len(e.onVault.m)), "bytes/pair")
}
