package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exports"
	"vaultwatch/internal/notify"
	"vaultwatch/internal/notify/webhook"
	"vaultwatch/internal/store"
)

// outbound is what happens after an alert is stored: notifications (routed,
// rate-limited into digests, queued in the store's outbox, delivered with
// retries) and continuous exports (every new alert, growth and status
// change, and a daily snapshot of the open alerts, at least once from a
// cursor). Each stage is one step of run; each reads the store's feeds from
// its own cursor, so a restart resumes where it stopped: nothing is lost,
// and what is sent twice carries the same idempotency key.
type outbound struct {
	st     store.Store
	feed   store.Feed
	box    store.Outbox
	log    *slog.Logger
	clock  func() time.Time
	base   string // the pages' address, for links
	routes notify.Routes
	hooks  []webhook.Settings
	rl     *notify.RateLimiter
	email  notify.Notifier
	wh     map[string]notify.Notifier
	ex     []*exportRun
	back   notify.Backoff

	mu       sync.Mutex
	counters outboundCounters
}

type outboundCounters struct {
	Sent, Failed, Retried, Held         int64
	Exported, ExportErrors, ExportStops int64
}

// exportRun is one export with its state.
type exportRun struct {
	*exports.Export
	stopped   error     // a permanent refusal: the export waits for a restart
	retryAt   time.Time // after a retryable failure
	failures  int
	snapEvery time.Duration
}

// Cursor and state keys in the store.
const (
	notifySource   = "notify"
	rateLimitState = "notify:ratelimit"
	feedBatch      = 200
)

func exportSource(name string) string { return "export:" + name }

// newOutbound builds the stages the configuration asks for; nil when
// there is nothing to send.
func newOutbound(st store.Store, c *ServeConfig, log *slog.Logger, clock func() time.Time, version string) (*outbound, error) {
	n := &c.Notifications
	if n.SMTP == nil && len(n.Webhooks) == 0 && len(c.Exports) == 0 {
		return nil, nil
	}
	feed, ok1 := st.(store.Feed)
	box, ok2 := st.(store.Outbox)
	if !ok1 || !ok2 {
		return nil, errors.New("notifications and exports: this store keeps no feed or outbox")
	}
	o := &outbound{st: st, feed: feed, box: box, log: log, clock: clock, base: strings.TrimSuffix(n.BaseURL, "/"),
		routes: n.Recipients, hooks: n.Webhooks, wh: map[string]notify.Notifier{}}
	var errs []error
	if n.SMTP != nil {
		e, err := n.SMTP.Notifier(o.base, log.With("component", "notify/email"), os.LookupEnv)
		if err != nil {
			errs = append(errs, fmt.Errorf("notifications: %w", err))
		} else {
			o.email = e
		}
	}
	for _, h := range n.Webhooks {
		w, err := h.Notifier(o.base, log.With("component", "notify/webhook", "webhook", h.Name), os.LookupEnv)
		if err != nil {
			errs = append(errs, fmt.Errorf("notifications: %w", err))
			continue
		}
		o.wh[h.Name] = w
	}
	o.rl = n.RateLimits.RateLimiter()
	for _, ec := range c.Exports {
		e, err := exports.Open(ec, version)
		if err != nil {
			errs = append(errs, fmt.Errorf("exports: %w", err))
			continue
		}
		o.ex = append(o.ex, &exportRun{Export: e, snapEvery: 24 * time.Hour})
	}
	if err := errors.Join(errs...); err != nil {
		o.close()
		return nil, err
	}
	if b, err := box.State(context.Background(), rateLimitState); err == nil && b != nil && o.rl != nil {
		if err := o.rl.Load(b); err != nil {
			log.Warn("notifications: the rate limiter's saved state is unreadable: starting afresh", "err", err)
		}
	}
	return o, nil
}

func (o *outbound) close() {
	for _, e := range o.ex {
		e.Sink.Close()
	}
}

// run does a round every second, and at once when kick fires (a batch
// was committed).
func (o *outbound) run(ctx context.Context, kick <-chan struct{}) {
	defer o.close()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		o.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
	}
}

// round runs every stage once.
func (o *outbound) round(ctx context.Context) {
	if err := o.enqueue(ctx); err != nil && ctx.Err() == nil {
		o.log.Error("notifications: routing new alerts", "err", err)
	}
	if err := o.deliver(ctx); err != nil && ctx.Err() == nil {
		o.log.Error("notifications: delivering", "err", err)
	}
	for _, e := range o.ex {
		if err := o.export(ctx, e); err != nil && ctx.Err() == nil {
			o.log.Error("export failed", "export", e.Name, "err", err)
		}
	}
}

// alertURL links an alert's page.
func (o *outbound) alertURL(id string) string {
	if o.base == "" {
		return ""
	}
	return o.base + "/alerts/" + url.PathEscape(id)
}

// notificationID is the idempotency key of an alert's notification to one
// receiver: the same after a restart.
func notificationID(alertID, receiver string) string {
	h := sha256.Sum256([]byte(alertID + "\x00" + receiver))
	return "vwn-" + hex.EncodeToString(h[:12])
}

// enqueue routes the alerts created since the notifier's cursor: a
// notification per receiver, or a place in a digest when the receiver's
// daily limit is reached; it stores them, the cursor and the rate
// limiter's state in one transaction.
func (o *outbound) enqueue(ctx context.Context) error {
	if o.email == nil && len(o.wh) == 0 {
		return nil
	}
	cur, err := o.st.Cursors(ctx, notifySource)
	if err != nil {
		return err
	}
	after, _ := strconv.ParseInt(cur["history"], 10, 64)
	items, err := o.feed.HistoryFeed(ctx, after, feedBatch)
	if err != nil {
		return err
	}
	now := o.clock().UTC()
	var out []store.OutboxItem
	add := func(receiver string, n notify.Notification) error {
		doc, err := json.Marshal(n)
		if err != nil {
			return err
		}
		out = append(out, store.OutboxItem{ID: n.ID, Receiver: receiver, Doc: doc, Created: now, Next: now})
		return nil
	}
	for _, it := range items {
		after = it.Seq
		a := it.Alert.Alert
		if !it.First || it.Alert.SuppressedBy != "" || it.Change.Status == store.StatusDismissed {
			continue // a status change, or a silenced alert: nobody is told
		}
		if o.email != nil {
			for _, rcpt := range o.routes.Route(a) {
				if !a.Sample && o.rl != nil && !o.rl.Allow(rcpt, a, now) {
					o.count(func(c *outboundCounters) { c.Held++ })
					continue // held for the recipient's digest
				}
				n := notify.Notification{ID: notificationID(a.ID, "email:"+rcpt), Receiver: rcpt, Alerts: []alert.Alert{a},
					URL: o.alertURL(a.ID), Sample: a.Sample, CreatedAt: now}
				if err := add("email", n); err != nil {
					return err
				}
			}
		}
		for _, h := range o.hooks {
			if _, ok := o.wh[h.Name]; !ok || len(notify.Routes{h.Route()}.Route(a)) == 0 {
				continue
			}
			n := notify.Notification{ID: notificationID(a.ID, "webhook:"+h.Name), Receiver: h.Name, Alerts: []alert.Alert{a},
				URL: o.alertURL(a.ID), Sample: a.Sample, CreatedAt: now}
			if err := add("webhook:"+h.Name, n); err != nil {
				return err
			}
		}
	}
	state := map[string][]byte{}
	if o.rl != nil && o.email != nil {
		for _, d := range o.rl.Digests(now) {
			n := notify.Notification{ID: "vwd-" + d.ID(), Receiver: d.Recipient, Alerts: d.Alerts, Digest: true,
				URL: o.base + "/alerts", CreatedAt: now}
			if err := add("email", n); err != nil {
				return err
			}
		}
		b, err := o.rl.Save()
		if err != nil {
			return err
		}
		state[rateLimitState] = b
	}
	if len(items) == 0 && len(out) == 0 {
		return nil
	}
	return o.box.Enqueue(ctx, out, []store.Cursor{{Source: notifySource, Key: "history", Value: strconv.FormatInt(after, 10)}}, state)
}

// deliver sends the outbox's due notifications once each, and records the
// outcome: sent, retried later, or given up.
func (o *outbound) deliver(ctx context.Context) error {
	due, err := o.box.Due(ctx, o.clock(), 50)
	if err != nil {
		return err
	}
	for _, it := range due {
		var n notify.Notification
		if err := json.Unmarshal(it.Doc, &n); err != nil {
			o.box.MarkOutbox(ctx, it.ID, store.OutboxFailed, it.Attempts+1, it.Next, "unreadable notification: "+err.Error(), o.clock())
			continue
		}
		var nt notify.Notifier
		switch {
		case it.Receiver == "email":
			nt = o.email
		case strings.HasPrefix(it.Receiver, "webhook:"):
			nt = o.wh[strings.TrimPrefix(it.Receiver, "webhook:")]
		}
		if nt == nil {
			// The receiver left the configuration: keep the item for the
			// day it comes back, and look again in an hour.
			o.box.MarkOutbox(ctx, it.ID, store.OutboxPending, it.Attempts, o.clock().Add(time.Hour), "no such receiver in the configuration", o.clock())
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := nt.Notify(sctx, n)
		cancel()
		now := o.clock()
		attempts := it.Attempts + 1
		if err == nil {
			o.count(func(c *outboundCounters) { c.Sent++ })
			if err := o.box.MarkOutbox(ctx, it.ID, store.OutboxSent, attempts, now, "", now); err != nil {
				return err
			}
			continue
		}
		if ctx.Err() != nil {
			return nil // stopping: the attempt is retried after the restart
		}
		next, retry := o.back.NextAttempt(it.Created, attempts, err)
		if notify.IsPermanent(err) || !retry {
			o.count(func(c *outboundCounters) { c.Failed++ })
			o.log.Error("notification failed for good", "receiver", it.Receiver, "id", it.ID, "attempts", attempts, "err", err)
			if err := o.box.MarkOutbox(ctx, it.ID, store.OutboxFailed, attempts, now, err.Error(), now); err != nil {
				return err
			}
			continue
		}
		o.count(func(c *outboundCounters) { c.Retried++ })
		o.log.Warn("notification failed; retrying", "receiver", it.Receiver, "id", it.ID, "attempts", attempts, "next", next, "err", err)
		if err := o.box.MarkOutbox(ctx, it.ID, store.OutboxPending, attempts, next, err.Error(), now); err != nil {
			return err
		}
	}
	return nil
}

// export sends one export what happened since its cursors: new alerts and
// status changes, alerts that grew, and, once a day, every open alert. The
// cursors move only when the destination took the batch.
func (o *outbound) export(ctx context.Context, e *exportRun) error {
	now := o.clock()
	if e.stopped != nil || now.Before(e.retryAt) {
		return nil
	}
	src := exportSource(e.Name)
	cur, err := o.st.Cursors(ctx, src)
	if err != nil {
		return err
	}
	var recs []export.Record
	var next []store.Cursor
	after, _ := strconv.ParseInt(cur["history"], 10, 64)
	hist, err := o.feed.HistoryFeed(ctx, after, feedBatch)
	if err != nil {
		return err
	}
	for _, it := range hist {
		r := export.Record{Kind: export.KindStatus, Seq: it.Seq, Alert: it.Alert.Alert, Status: string(it.Alert.Status),
			Version: it.Alert.Version, SuppressedBy: it.Alert.SuppressedBy, At: it.Change.At,
			Change: &export.StatusChange{Status: string(it.Change.Status), By: it.Change.By, Comment: it.Change.Comment, At: it.Change.At}}
		if it.First {
			r.Kind, r.Change = export.KindAlert, nil
		}
		if e.Filter.Match(r) {
			recs = append(recs, r)
		}
		after = it.Seq
	}
	if len(hist) > 0 {
		next = append(next, store.Cursor{Source: src, Key: "history", Value: strconv.FormatInt(after, 10)})
	}
	gc := parseGrowthCursor(cur["growth"])
	grown, gc2, err := o.feed.GrowthFeed(ctx, gc, feedBatch)
	if err != nil {
		return err
	}
	for _, rec := range grown {
		r := export.Record{Kind: export.KindAlert, Grown: true, Seq: rec.UpdatedAt.UnixNano(), Alert: rec.Alert, Status: string(rec.Status),
			Version: rec.Version, SuppressedBy: rec.SuppressedBy, At: rec.UpdatedAt}
		if e.Filter.Match(r) {
			recs = append(recs, r)
		}
	}
	if gc2 != gc {
		next = append(next, store.Cursor{Source: src, Key: "growth", Value: gc2.T.Format(time.RFC3339Nano) + " " + gc2.ID})
	}
	last, _ := time.Parse(time.RFC3339Nano, cur["snapshot"])
	if now.Sub(last) >= e.snapEvery {
		snap, err := o.snapshot(ctx, e, now)
		if err != nil {
			return err
		}
		recs = append(recs, snap...)
		next = append(next, store.Cursor{Source: src, Key: "snapshot", Value: now.UTC().Format(time.RFC3339Nano)})
	}
	if len(next) == 0 {
		return nil
	}
	if len(recs) > 0 {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err = e.Sink.Send(sctx, recs)
		cancel()
		if err != nil {
			o.count(func(c *outboundCounters) { c.ExportErrors++ })
			if errors.Is(err, export.ErrPermanent) {
				e.stopped = err
				o.count(func(c *outboundCounters) { c.ExportStops++ })
				return fmt.Errorf("stopped until the next start (the destination refused the records): %w", err)
			}
			e.failures++
			e.retryAt = now.Add(o.back.Delay(e.failures, err))
			return fmt.Errorf("retrying at %s: %w", e.retryAt.Format(time.RFC3339), err)
		}
		e.failures = 0
		o.count(func(c *outboundCounters) { c.Exported += int64(len(recs)) })
	}
	return o.box.Enqueue(ctx, nil, next, nil)
}

// snapshot lists the open alerts for an export's daily snapshot.
func (o *outbound) snapshot(ctx context.Context, e *exportRun, now time.Time) ([]export.Record, error) {
	id := fmt.Sprintf("snap-%s-%d", e.Name, now.Unix())
	var out []export.Record
	for _, st := range []store.Status{store.StatusActive, store.StatusInProgress} {
		for off := 0; ; off += 500 {
			page, err := o.st.Alerts(ctx, store.AlertQuery{Status: st, Limit: 500, Offset: off})
			if err != nil {
				return nil, err
			}
			for i, rec := range page.Alerts {
				r := export.Record{Kind: export.KindSnapshot, Seq: now.UnixNano() + int64(off+i), Alert: rec.Alert, Status: string(rec.Status),
					Version: rec.Version, SuppressedBy: rec.SuppressedBy, SnapshotID: id, At: now}
				if e.Filter.Match(r) {
					out = append(out, r)
				}
			}
			if len(page.Alerts) < 500 {
				break
			}
		}
	}
	return out, nil
}

func parseGrowthCursor(s string) store.GrowthCursor {
	ts, id, _ := strings.Cut(s, " ")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return store.GrowthCursor{}
	}
	return store.GrowthCursor{T: t, ID: id}
}

func (o *outbound) count(f func(*outboundCounters)) {
	o.mu.Lock()
	f(&o.counters)
	o.mu.Unlock()
}

// Counters returns a copy of the counters.
func (o *outbound) Counters() outboundCounters {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counters
}
