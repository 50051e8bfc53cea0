// Package export streams alerts out of vaultwatch: every new or grown alert,
// every status change and periodic snapshots of the open alerts, as
// Records, each encoded by a Format (vaultwatch's own JSON, OCSF Detection
// Finding, CEF) and handed in batches to a Sink (a JSON Lines file, an HTTP
// endpoint, a Kafka topic, syslog).
//
// Delivery is at least once: the caller keeps a cursor (Record.Seq), sends
// a batch, and moves the cursor only when Send returned nil; a batch that
// failed is sent again, whole. Receivers therefore see a record more than
// once after a failure or a restart, and drop the copies by
// Record.IdempotencyKey, which every format carries.
package export

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/alert"
)

// Record kinds.
const (
	// KindAlert is a new alert, or an alert that grew (more events, a
	// later end).
	KindAlert = "alert"
	// KindStatus is a change of an alert's status.
	KindStatus = "status"
	// KindSnapshot is one open alert in a scheduled snapshot of all open
	// alerts; the records of one snapshot share SnapshotID.
	KindSnapshot = "snapshot"
)

// Alert statuses, as the store names them.
const (
	StatusActive     = "active"
	StatusInProgress = "in-progress"
	StatusDismissed  = "dismissed"
	StatusResolved   = "resolved"
)

// Record is one thing exported: an alert as it is now, with its handling.
type Record struct {
	// Kind is KindAlert, KindStatus or KindSnapshot.
	Kind string
	// Seq is the record's position in the export stream, given once when
	// the record is written to the outbox and never reused: it grows
	// monotonically, and a record sent again (a retry, a replay after a
	// restart) keeps its Seq.
	Seq int64
	// Alert is the alert as it is when the record is made.
	Alert alert.Alert
	// Status is the alert's status: active, in-progress, dismissed or
	// resolved.
	Status string
	// Version is the alert's version; it grows on every status change,
	// and is 1 for a new alert.
	Version int
	// Grown is set on a KindAlert record of an alert exported before that
	// has grown since (more events, a later end); unset for a new alert.
	Grown bool
	// Change is the status change of a KindStatus record; nil otherwise.
	Change *StatusChange
	// SuppressedBy is the suppression rule that muted the alert, if any.
	SuppressedBy string
	// SnapshotID names the snapshot of a KindSnapshot record.
	SnapshotID string
	// At is when the record was made (the status change, the alert's
	// update, the snapshot).
	At time.Time
}

// StatusChange is one change of an alert's status.
type StatusChange struct {
	Status  string    `json:"status"`
	By      string    `json:"by"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// IdempotencyKey names the record for receivers that drop duplicates:
// "vw1:KIND:ALERT-ID:vVERSION:SEQ" (for example
// "vw1:alert:vw-1f2e3d4c5b6a7980:v1:42"). The same record sent again, by a
// retry or a replay after a restart, has the same key, because its Seq is
// fixed when it enters the outbox; two different records never share one,
// because their Seq differ. The kind, alert id and version are there for
// people reading it; a receiver must compare the whole key, never parse it.
func (r *Record) IdempotencyKey() string {
	return string(r.AppendIdempotencyKey(make([]byte, 0, 48)))
}

// AppendIdempotencyKey appends IdempotencyKey to dst.
func (r *Record) AppendIdempotencyKey(dst []byte) []byte {
	dst = append(dst, "vw1:"...)
	dst = append(dst, r.Kind...)
	dst = append(dst, ':')
	dst = append(dst, r.Alert.ID...)
	dst = append(dst, ":v"...)
	dst = strconv.AppendInt(dst, int64(r.Version), 10)
	dst = append(dst, ':')
	return strconv.AppendInt(dst, r.Seq, 10)
}

// Validate reports what makes r unexportable: an unknown kind, no alert id,
// a status record without its change.
func (r *Record) Validate() error {
	var errs []error
	switch r.Kind {
	case KindAlert, KindSnapshot:
	case KindStatus:
		if r.Change == nil {
			errs = append(errs, errors.New("status record without a change"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown kind %q", r.Kind))
	}
	if r.Alert.ID == "" {
		errs = append(errs, errors.New("alert without an id"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("record %d: %w", r.Seq, err)
	}
	return nil
}

// Closed reports whether the record's status ends the alert's handling
// (dismissed or resolved).
func (r *Record) Closed() bool {
	return r.Status == StatusDismissed || r.Status == StatusResolved
}

// Sink is a destination of exported records.
//
// Send delivers a batch, all or nothing from the caller's view: it returns
// nil only when the destination accepted every record of the batch. On an
// error the caller sends the same batch again later (after a restart, too),
// so a destination may receive some records more than once and must drop
// copies by their idempotency key. An error wrapping ErrPermanent means
// sending the batch again will fail the same way (a rejected request, a
// record too large); any other error is worth a retry with backoff. Send
// honours ctx's cancellation and deadline. Send and Close are not called
// concurrently; Close releases the connection or file, and Send after
// Close fails.
type Sink interface {
	Name() string
	Send(ctx context.Context, batch []Record) error
	Close() error
}

// ErrPermanent marks a send error that a retry will not cure.
var ErrPermanent = errors.New("permanent export failure")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() []error {
	return []error{e.err, ErrPermanent}
}

// Filter selects the records an export sends. An empty list does not
// filter; lists are ANDed with one another, values within a list ORed. A
// filter applies to every kind: a status change or a snapshot of an alert
// goes where the alert itself goes.
type Filter struct {
	// Severities are minimum severities: a record passes when its alert's
	// severity is at least the lowest one listed ("medium" passes medium
	// and high).
	Severities []string `yaml:"severities" json:"severities,omitempty"`
	// Types are alert type ids, e.g. "tor-access".
	Types []string `yaml:"types" json:"types,omitempty"`
	// Vaults are vault ids or names; an alert matches by its vault or any
	// of the vaults of a cross-vault alert.
	Vaults []string `yaml:"vaults" json:"vaults,omitempty"`
}

// severityRank orders severities; 0 is unknown.
func severityRank(s alert.Severity) int {
	switch strings.ToLower(string(s)) {
	case string(alert.SeverityLow):
		return 1
	case string(alert.SeverityMedium):
		return 2
	case string(alert.SeverityHigh):
		return 3
	}
	return 0
}

// Validate reports every unknown severity and alert type of f.
func (f Filter) Validate() error {
	var errs []error
	for _, s := range f.Severities {
		if severityRank(alert.Severity(s)) == 0 {
			errs = append(errs, fmt.Errorf("filter: unknown severity %q (want low, medium or high)", s))
		}
	}
	for _, t := range f.Types {
		if _, ok := alert.Lookup(alert.Type(t)); !ok {
			errs = append(errs, fmt.Errorf("filter: unknown alert type %q", t))
		}
	}
	for _, v := range f.Vaults {
		if v == "" {
			errs = append(errs, errors.New("filter: empty vault"))
		}
	}
	return errors.Join(errs...)
}

// Match reports whether r passes f.
func (f Filter) Match(r Record) bool {
	a := &r.Alert
	if len(f.Severities) > 0 {
		lowest := 4
		for _, s := range f.Severities {
			if k := severityRank(alert.Severity(s)); k > 0 && k < lowest {
				lowest = k
			}
		}
		if severityRank(a.Severity) < lowest {
			return false
		}
	}
	if len(f.Types) > 0 && !contains(f.Types, string(a.Type)) {
		return false
	}
	if len(f.Vaults) > 0 {
		ok := contains(f.Vaults, a.Vault.ID) || (a.Vault.Name != "" && contains(f.Vaults, a.Vault.Name))
		for i := 0; !ok && i < len(a.Vaults); i++ {
			v := a.Vaults[i]
			ok = contains(f.Vaults, v.ID) || (v.Name != "" && contains(f.Vaults, v.Name))
		}
		if !ok {
			return false
		}
	}
	return true
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
