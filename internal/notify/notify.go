// Package notify delivers alerts to people and systems: the Notification
// every notifier sends, the Notifier contract, the classification of
// delivery errors, one shared retry policy (Backoff), and the stages a
// notification passes through before it is sent, each one small and
// testable alone: Route (who receives an alert), RateLimiter (how many a
// day, the rest in a digest) and Dedup (never the same notification twice).
//
// The notifiers themselves are in subpackages: email (SMTP) and webhook
// (generic JSON, Slack, Microsoft Teams). A durable outbox in the store
// persists accepted Notifications and drives them through these stages,
// so a notification accepted is delivered after a restart.
package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"vaultwatch/internal/alert"
)

// Notification is one message to one receiver: one alert, or several
// gathered in a digest.
type Notification struct {
	// ID is the idempotency key: stable across retries and restarts, so
	// that a receiver (or a mail client, through the Message-ID) can drop
	// a notification it already has.
	ID string `json:"id"`
	// Receiver is where it goes: an e-mail address, or a webhook's name.
	Receiver string `json:"receiver"`
	// Alerts are one alert, or several for a digest.
	Alerts []alert.Alert `json:"alerts"`
	// Digest is set when Alerts gathers alerts held back by a rate limit.
	Digest bool `json:"digest,omitempty"`
	// URL links to the alert's page, or to the alerts list for a digest.
	URL string `json:"url,omitempty"`
	// Sample marks a test notification (sent to check a configuration).
	Sample bool `json:"sample,omitempty"`
	// CreatedAt is when the notification was accepted.
	CreatedAt time.Time `json:"created_at"`
}

// Notifier delivers notifications to one kind of receiver.
//
// Notify sends n once and returns when the receiver has accepted it, or
// with an error. It does not retry: the caller (an outbox) retries with
// Backoff. An error for which errors.Is(err, ErrPermanent) holds is not
// worth retrying (the receiver refused the notification, the credentials
// are wrong, the recipient does not exist); every other error is retryable
// (a timeout, a refused connection, a server busy). Notify honours ctx's
// deadline and cancellation, is safe for concurrent use, and never puts a
// password, key or secret URL in its errors or logs.
type Notifier interface {
	Name() string
	Notify(ctx context.Context, n Notification) error
}

// ErrPermanent marks delivery errors not worth retrying.
var ErrPermanent = errors.New("permanent failure")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds. A nil
// err stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() []error {
	return []error{e.err, ErrPermanent}
}

// IsPermanent reports whether err is not worth retrying.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// RetryAfterError is a retryable error with the delay the receiver asked
// for (an HTTP Retry-After, say). Backoff waits at least that long.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// Secret is a value never to be shown: it prints, formats and marshals as
// "<secret>". Reveal returns the value.
type Secret struct{ v string }

// NewSecret returns s as a Secret.
func NewSecret(s string) Secret { return Secret{s} }

// Reveal returns the secret value, for the one place that needs it.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// String returns "<secret>", or "" when the secret is empty.
func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "<secret>"
}

// GoString is String, so that %#v does not show the value either.
func (s Secret) GoString() string { return s.String() }

// MarshalText returns "<secret>", so that a configuration dumped as JSON
// or YAML does not carry the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LoadSecret reads a secret from a file (its content, trailing newlines
// removed) or from an environment variable, whichever is named; what names
// it (e.g. "smtp.password_file") goes into the errors. lookupEnv is
// os.LookupEnv, or a replacement in tests. Naming both or neither is an
// error; so is an empty secret.
func LoadSecret(what, file, env string, lookupEnv func(string) (string, bool)) (Secret, error) {
	switch {
	case file != "" && env != "":
		return Secret{}, fmt.Errorf("%s: give a file or an environment variable, not both", what)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return Secret{}, fmt.Errorf("%s: %w", what, err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return Secret{}, fmt.Errorf("%s: %s is empty", what, file)
		}
		return Secret{s}, nil
	case env != "":
		if lookupEnv == nil {
			lookupEnv = os.LookupEnv
		}
		s, ok := lookupEnv(env)
		if !ok || s == "" {
			return Secret{}, fmt.Errorf("%s: environment variable %s is not set", what, env)
		}
		return Secret{s}, nil
	}
	return Secret{}, fmt.Errorf("%s: no file or environment variable given", what)
}
