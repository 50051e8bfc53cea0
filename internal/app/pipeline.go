package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auditlog"
	"vaultwatch/internal/detect"
	"vaultwatch/internal/event"
	"vaultwatch/internal/source"
	"vaultwatch/internal/store"
	"vaultwatch/internal/suppress"
)

// pipeline turns the sources' chunks into stored events and alerts. One
// goroutine runs it: it decodes each chunk (one decoding stream per source
// and origin, so that a Vault request pairs with its response across
// chunks), runs the detection engine over the events, and commits a batch
// — the events, every alert raised or grown, the sources' cursors and, now
// and then, the engine's state — in one store transaction; only then does
// it tell the chunks' sources (Done), so that a source that resumes from
// its committed cursors reads nothing twice and loses nothing.
type pipeline struct {
	engine *detect.Engine
	store  store.Store
	log    *slog.Logger
	clock  func() time.Time

	// Batching: a batch is committed when it holds maxEvents events or its
	// first chunk has waited maxDelay.
	maxEvents int
	maxDelay  time.Duration
	// stateEvery is how often the engine's state is saved with a batch.
	stateEvery time.Duration
	// idleFlush is how long an origin may stay quiet before its decoder
	// gives up waiting for the rest of a pair.
	idleFlush time.Duration

	streams   map[streamKey]*liveStream
	stats     *auditlog.Stats
	events    []event.Event
	alerts    map[string]*alert.Alert
	cursors   map[streamKey]store.Cursor
	done      []pendingDone
	first     time.Time // when the batch's first chunk arrived
	lastState time.Time

	mu       sync.Mutex // guards counters
	counters pipelineCounters
	// baselines is the engine's summary of each vault, refreshed with
	// every saved state, for the pages.
	baselines atomic.Pointer[map[string]detect.VaultBaseline]
	// rules are the suppression rules, replaced whenever they change.
	rules atomic.Pointer[suppress.Set]
	// inject takes alerts made outside detection (samples) into the next
	// batch, committed at once.
	inject chan injectReq
	// kick tells the outbound stages that alerts were committed.
	kick chan struct{}
}

type injectReq struct {
	alerts []*alert.Alert
	done   chan error
}

// Inject stores alerts made outside detection through the pipeline, as
// detection's are stored, and returns once they are committed.
func (p *pipeline) Inject(ctx context.Context, alerts []*alert.Alert) error {
	req := injectReq{alerts, make(chan error, 1)}
	select {
	case p.inject <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxBaselineEntries caps the callers and networks a vault's summary lists.
const maxBaselineEntries = 500

func (p *pipeline) refreshBaselines(now time.Time) {
	b := p.engine.Baselines(now, maxBaselineEntries)
	p.baselines.Store(&b)
}

// pipelineCounters are the pipeline's totals, for the pages and metrics.
type pipelineCounters struct {
	Chunks, Records, Events, Malformed, Alerts, Batches, CommitErrors int64
	Findings, Evicted                                                 int64 // the engine's, as of the last batch
	LastCommit                                                        time.Time
	LastEvent                                                         time.Time
}

type streamKey struct{ source, origin string }

type liveStream struct {
	st   *auditlog.Stream
	last time.Time
}

type pendingDone struct {
	done func(source.Result)
	res  source.Result
}

func newPipeline(engine *detect.Engine, st store.Store, log *slog.Logger, clock func() time.Time) *pipeline {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = time.Now
	}
	return &pipeline{
		engine: engine, store: st, log: log, clock: clock,
		maxEvents: 5000, maxDelay: 200 * time.Millisecond, stateEvery: 30 * time.Second, idleFlush: 5 * time.Second,
		streams: map[streamKey]*liveStream{},
		inject:  make(chan injectReq),
		kick:    make(chan struct{}, 1),
		stats:   auditlog.NewStats(),
		alerts:  map[string]*alert.Alert{},
		cursors: map[streamKey]store.Cursor{},
	}
}

// emitAlert receives the engine's finished alerts.
func (p *pipeline) emitAlert(a *alert.Alert) {
	p.alerts[a.ID] = a
}

// run reads chunks until ctx ends, then commits what it holds and saves the
// engine's state. It returns an error only when the store refuses a batch
// after retries: the service cannot go on without losing events.
func (p *pipeline) run(ctx context.Context, in <-chan source.Chunk) error {
	tick := time.NewTicker(p.maxDelay / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Drain what the sources already handed over, then stop.
			for {
				select {
				case c := <-in:
					p.chunk(c)
					continue
				default:
				}
				break
			}
			return p.commit(context.WithoutCancel(ctx), true)
		case c := <-in:
			p.chunk(c)
			if len(p.events) >= p.maxEvents {
				if err := p.commit(ctx, false); err != nil {
					return err
				}
			}
		case req := <-p.inject:
			for _, a := range req.alerts {
				p.alerts[a.ID] = a
			}
			err := p.commit(ctx, false)
			req.done <- err
			if err != nil {
				return err
			}
		case <-tick.C:
			p.flushIdle()
			if len(p.done) > 0 || len(p.events) > 0 || len(p.alerts) > 0 {
				if p.clock().Sub(p.first) >= p.maxDelay {
					if err := p.commit(ctx, false); err != nil {
						return err
					}
				}
			}
		}
	}
}

// chunk decodes one chunk into the batch.
func (p *pipeline) chunk(c source.Chunk) {
	if len(p.done) == 0 && len(p.events) == 0 {
		p.first = p.clock()
	}
	k := streamKey{c.Source, c.Origin}
	if c.Line == 0 {
		// Requests and messages have no lines to follow: one stream per
		// source, so that a Vault request pairs with its response sent in
		// the next request (pairs are found by request id).
		k.origin = ""
	}
	ls := p.streams[k]
	if ls == nil {
		ls = &liveStream{}
		ls.st = auditlog.NewStream(auditlog.Formats(), p.stats, p.event)
		p.streams[k] = ls
	}
	ls.last = p.clock()
	before := struct{ rec, ev, mal, skip int64 }{p.stats.Records.Load(), p.stats.Events, p.stats.Malformed, p.stats.SkippedTotal()}
	nProblems := len(p.stats.Problems)
	ls.st.ReadChunk(c.Origin, int64(max(c.Line, 1)), c.Data)
	res := source.Result{
		Records:   int(p.stats.Records.Load() - before.rec),
		Events:    int(p.stats.Events - before.ev),
		Malformed: int(p.stats.Malformed - before.mal),
		Skipped:   int(p.stats.SkippedTotal() - before.skip),
	}
	for _, pr := range p.stats.Problems[nProblems:] {
		res.Problems = append(res.Problems, pr.String())
	}
	if len(p.stats.Problems) >= auditlog.MaxProblems {
		p.stats.Problems = p.stats.Problems[:0] // keep reporting per chunk
	}
	if res.Malformed > 0 {
		p.log.Warn("malformed records", "source", c.Source, "origin", c.Origin, "count", res.Malformed)
	}
	if c.Cursor.Key != "" {
		p.cursors[streamKey{c.Source, c.Cursor.Key}] = store.Cursor{Source: c.Source, Key: c.Cursor.Key, Value: c.Cursor.Value}
	}
	if c.Done != nil {
		p.done = append(p.done, pendingDone{c.Done, res})
	}
	p.mu.Lock()
	p.counters.Chunks++
	p.counters.Records += int64(res.Records)
	p.counters.Malformed += int64(res.Malformed)
	p.mu.Unlock()
}

// event runs the engine over one decoded event and keeps it for the index.
func (p *pipeline) event(e *event.Event) {
	p.engine.Process(e)
	p.events = append(p.events, *e)
}

// flushIdle flushes the decoders of origins quiet for idleFlush, and
// forgets them.
func (p *pipeline) flushIdle() {
	now := p.clock()
	for k, ls := range p.streams {
		if now.Sub(ls.last) >= p.idleFlush {
			ls.st.Flush()
			delete(p.streams, k)
		}
	}
}

// commit writes the batch. final saves the engine's state whatever its age.
func (p *pipeline) commit(ctx context.Context, final bool) error {
	if final {
		for k, ls := range p.streams {
			ls.st.Flush()
			delete(p.streams, k)
		}
	}
	p.engine.Changed(p.emitAlert) // open alerts that grew, as they stand now
	now := p.clock()
	b := &store.Batch{Events: p.events, Now: now}
	rules := p.rules.Load()
	for _, a := range p.alerts {
		b.Alerts = append(b.Alerts, a)
		if r := rules.Match(a, now); r != nil {
			if b.Suppressed == nil {
				b.Suppressed = map[string]string{}
			}
			b.Suppressed[a.ID] = r.ID
		}
	}
	for _, c := range p.cursors {
		b.Cursors = append(b.Cursors, c)
	}
	if final || now.Sub(p.lastState) >= p.stateEvery {
		var buf bytes.Buffer
		if err := p.engine.SaveState(&buf); err != nil {
			return fmt.Errorf("saving the detection state: %w", err)
		}
		b.State = buf.Bytes()
	}
	if len(b.Events) == 0 && len(b.Alerts) == 0 && len(b.Cursors) == 0 && b.State == nil && len(p.done) == 0 {
		return nil
	}
	var err error
	for attempt, wait := 0, 100*time.Millisecond; ; attempt, wait = attempt+1, wait*2 {
		if err = p.store.Commit(ctx, b); err == nil || attempt == 4 || ctx.Err() != nil {
			break
		}
		p.log.Error("committing a batch failed; retrying", "err", err, "events", len(b.Events), "attempt", attempt+1)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	p.mu.Lock()
	if err != nil {
		p.counters.CommitErrors++
	} else {
		p.counters.Batches++
		p.counters.Events += int64(len(b.Events))
		p.counters.Alerts += int64(len(b.Alerts))
		p.counters.LastCommit = now
		p.counters.Findings, p.counters.Evicted = p.engine.Stats.Findings, p.engine.Stats.Evicted
		if n := len(b.Events); n > 0 {
			p.counters.LastEvent = b.Events[n-1].Time
		}
	}
	p.mu.Unlock()
	for _, d := range p.done {
		r := d.res
		r.Err = err
		d.done(r)
	}
	if err != nil {
		return fmt.Errorf("committing %d events: %w", len(b.Events), err)
	}
	if b.State != nil {
		p.lastState = now
		p.refreshBaselines(now)
	}
	if len(b.Alerts) > 0 {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	p.events = p.events[:0]
	clear(p.alerts)
	clear(p.cursors)
	p.done = p.done[:0]
	return nil
}

// Counters returns a copy of the pipeline's totals.
func (p *pipeline) Counters() pipelineCounters {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counters
}
