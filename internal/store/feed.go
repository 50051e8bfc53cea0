package store

import (
	"context"
	"time"
)

// Feed is the ordered record of what happened to alerts, for continuous
// export and notifications: every status change (an alert's creation is
// its first, "active" by the system), and every time an alert grew. A
// reader keeps its own cursors and reads on from them; nothing is
// consumed.
type Feed interface {
	// HistoryFeed returns the status changes after seq (the alert_history
	// sequence), oldest first, each with its alert as it is now.
	HistoryFeed(ctx context.Context, afterSeq int64, limit int) ([]HistoryItem, error)
	// GrowthFeed returns the alerts whose body was last replaced after the
	// cursor (a detector's later findings, more evidence), in update order;
	// an alert whose last update was a status change is left out: the
	// history feed has it.
	GrowthFeed(ctx context.Context, after GrowthCursor, limit int) ([]AlertRecord, GrowthCursor, error)
}

// HistoryItem is one status change and its alert.
type HistoryItem struct {
	Seq    int64
	Change StatusChange
	Alert  AlertRecord
	// First is set for an alert's first history entry: its creation.
	First bool
}

// GrowthCursor is a position in the growth feed: the update time and id
// of the last alert read.
type GrowthCursor struct {
	T  time.Time
	ID string
}

// Outbox is the durable queue of notifications: a notification enqueued
// is delivered after a restart. Items are keyed by an idempotency id;
// enqueuing one that exists changes nothing.
type Outbox interface {
	// Enqueue adds items and, in the same transaction, upserts cursors
	// and key-value state (a rate limiter's, say): what a notifier read and
	// what it decided are stored together.
	Enqueue(ctx context.Context, items []OutboxItem, cursors []Cursor, state map[string][]byte) error
	// Due returns up to limit pending items whose next attempt is due at
	// now, oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error)
	// MarkOutbox records an attempt's outcome: state "sent", "failed"
	// (given up) or "pending" with the next attempt's time.
	MarkOutbox(ctx context.Context, id string, state string, attempts int, next time.Time, lastErr string, at time.Time) error
	// OutboxCounts counts the items by state.
	OutboxCounts(ctx context.Context) (map[string]int, error)
	// State returns a key's value, nil when unset.
	State(ctx context.Context, key string) ([]byte, error)
}

// Outbox item states.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxItem is one notification to deliver to one receiver.
type OutboxItem struct {
	ID       string // idempotency key, also what the receiver sees
	Receiver string // e.g. "email" or "webhook:NAME"
	Doc      []byte // the notification, JSON
	Created  time.Time
	Next     time.Time
	Attempts int
	State    string
	LastErr  string
}
