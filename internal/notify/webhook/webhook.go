// Package webhook sends notifications over HTTP: a generic, versioned and
// signed JSON payload, Slack incoming-webhook messages, and Microsoft
// Teams (Workflows) Adaptive Cards.
//
// # Verifying the generic payload
//
// Every generic POST carries three headers: X-Vaultwatch-Id (the
// notification's idempotency key, also "id" in the body: drop a
// notification whose id you already have), X-Vaultwatch-Timestamp (Unix
// seconds) and X-Vaultwatch-Signature, "sha256=" and the lower-case hex
// HMAC-SHA256, keyed with the webhook's secret, of the timestamp, a dot
// and the raw body. A receiver recomputes the HMAC over the bytes it
// received (before parsing them), compares it in constant time
// (hmac.Equal), and refuses a timestamp more than a few minutes from its
// clock, so that a captured request cannot be replayed later. Verify does
// all three.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/notify"
)

// Type is the format a webhook receives.
type Type string

// Webhook types.
const (
	Generic Type = "generic"
	Slack   Type = "slack"
	Teams   Type = "teams"
)

// Headers of the generic payload.
const (
	HeaderID        = "X-Vaultwatch-Id"
	HeaderTimestamp = "X-Vaultwatch-Timestamp"
	HeaderSignature = "X-Vaultwatch-Signature"
)

// DefaultTimeout bounds one delivery attempt when the context does not.
const DefaultTimeout = 10 * time.Second

// Config is one webhook.
type Config struct {
	// Name names the webhook in logs and as a notification's Receiver.
	Name string
	Type Type // default Generic
	// URL is where to POST. Slack's and Teams' URLs are credentials
	// themselves: it is never logged or put in an error.
	URL notify.Secret
	// Key signs generic payloads (X-Vaultwatch-Signature); required for
	// Generic, unused by Slack and Teams.
	Key notify.Secret
	// BaseURL, when set, links each alert of a digest to its page.
	BaseURL string
	// Timeout bounds one attempt; default DefaultTimeout.
	Timeout time.Duration
	// Client sends the requests; default a client that does not follow
	// redirects. Its redirect policy is kept.
	Client *http.Client
	// Now stamps the signature; default time.Now.
	Now func() time.Time
	// Logger receives a debug line per notification sent.
	Logger *slog.Logger
}

// Notifier posts notifications to one webhook. Safe for concurrent use.
type Notifier struct {
	cfg Config
	url string
	log *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// New checks cfg and returns its notifier.
func New(cfg Config) (*Notifier, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("webhook: no name"))
	}
	if cfg.Type == "" {
		cfg.Type = Generic
	}
	switch cfg.Type {
	case Generic:
		if cfg.Key.IsZero() {
			errs = append(errs, fmt.Errorf("webhook %s: a generic webhook needs a signing secret", cfg.Name))
		}
	case Slack, Teams:
	default:
		errs = append(errs, fmt.Errorf("webhook %s: type %q: want %s, %s or %s", cfg.Name, cfg.Type, Generic, Slack, Teams))
	}
	u, err := url.Parse(cfg.URL.Reveal())
	switch {
	case cfg.URL.IsZero():
		errs = append(errs, fmt.Errorf("webhook %s: no url", cfg.Name))
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		// The URL is not quoted: it may be a credential.
		errs = append(errs, fmt.Errorf("webhook %s: the url is not an http(s) URL", cfg.Name))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{cfg: cfg, url: cfg.URL.Reveal(),
		log: log.With("component", "notify", "notifier", "webhook", "webhook", cfg.Name, "type", string(cfg.Type))}, nil
}

// Name returns the webhook's name.
func (w *Notifier) Name() string { return w.cfg.Name }

// Notify posts n in the webhook's format. See notify.Notifier for the
// contract. A 2xx answer is success; 408, 429 (with its Retry-After,
// see notify.RetryAfterError), 5xx, timeouts and connection errors are
// retryable; every other answer (3xx, 4xx) and a certificate that does not
// verify are permanent.
func (w *Notifier) Notify(ctx context.Context, n notify.Notification) error {
	body, err := Payload(w.cfg.Type, n, w.cfg.BaseURL)
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook %s, notification %s: %w", w.cfg.Name, n.ID, err))
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook %s: the url does not make a request", w.cfg.Name))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vaultwatch")
	if w.cfg.Type == Generic {
		ts := strconv.FormatInt(w.cfg.Now().Unix(), 10)
		req.Header.Set(HeaderID, n.ID)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign([]byte(w.cfg.Key.Reveal()), ts, body))
	}
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s, notification %s: %w", w.cfg.Name, n.ID, transportError(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if err := Classify(resp.StatusCode, resp.Header.Get("Retry-After"), w.cfg.Now(), snippet); err != nil {
		return fmt.Errorf("webhook %s, notification %s: %w", w.cfg.Name, n.ID, err)
	}
	w.log.DebugContext(ctx, "webhook sent", "id", n.ID, "status", resp.StatusCode, "alerts", len(n.Alerts), "digest", n.Digest)
	return nil
}

// transportError strips the URL from a client error (it may be a
// credential) and classifies it: a certificate that does not verify is
// permanent, every other transport error (timeouts, refused or reset
// connections) retryable.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("POST: %w", ue.Err)
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) {
		return notify.Permanent(err)
	}
	return err
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Status int
	Body   string // the start of the answer's body, for diagnosis
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		s += fmt.Sprintf(": %q", e.Body)
	}
	return s
}

// Classify returns nil for a 2xx status; a retryable error for 408, 429
// and 5xx (a notify.RetryAfterError when retryAfter, seconds or an HTTP
// date, asks for a delay, measured from now); and a permanent error for
// any other status. body is the start of the answer, kept in the error.
func Classify(status int, retryAfter string, now time.Time, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	err := error(&StatusError{Status: status, Body: printable(body)})
	if status != http.StatusRequestTimeout && status != http.StatusTooManyRequests && status < 500 {
		return notify.Permanent(err)
	}
	if d, ok := parseRetryAfter(retryAfter, now); ok {
		return &notify.RetryAfterError{Err: err, After: d}
	}
	return err
}

// maxRetryAfter bounds the delay a receiver can ask for.
const maxRetryAfter = 6 * time.Hour

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	if d <= 0 {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

// printable keeps the printable start of an answer's body, at most 200
// bytes.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// Sign returns the X-Vaultwatch-Signature of body sent at timestamp (Unix
// seconds, as sent in X-Vaultwatch-Timestamp): "sha256=" and the hex
// HMAC-SHA256 of timestamp + "." + body under key.
func Sign(key []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is returned by Verify for a request that was not signed
// with the key, or too long ago.
var ErrBadSignature = errors.New("bad webhook signature")

// Verify checks a received generic payload: signature over timestamp and
// body under key, and a timestamp within tolerance of now. It is what a
// receiver written in Go does; see the package documentation for others.
func Verify(key []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, timestamp)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %s is %s from now", ErrBadSignature, timestamp, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(key, timestamp, body)), []byte(signature)) {
		return fmt.Errorf("%w: signature does not match", ErrBadSignature)
	}
	return nil
}
