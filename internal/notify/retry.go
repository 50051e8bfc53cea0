package notify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Backoff is the one retry policy of every notifier: exponential backoff
// with jitter, a cap, and a maximum age after which a notification is
// given up. The zero value is usable (see the field defaults). Now, Rand
// and Sleep are injected so that tests are deterministic.
//
// The delay after the n-th failed attempt (n from 1) is
// min(Max, Initial * Multiplier^(n-1)), less a random part of up to Jitter
// of it (so that many notifications failing together do not retry in
// step), and at least what the receiver asked for (a RetryAfterError).
type Backoff struct {
	Initial    time.Duration // first delay; default 10s
	Max        time.Duration // the cap on one delay; default 10m
	Multiplier float64       // growth per attempt; default 2
	Jitter     float64       // the fraction of a delay taken off at random, 0 to 1; default 0.2
	// MaxAge is how long after its first attempt a notification is retried
	// at most; default 24h.
	MaxAge time.Duration

	Now   func() time.Time                                 // default time.Now
	Rand  func() float64                                   // in [0, 1); default math/rand/v2
	Sleep func(ctx context.Context, d time.Duration) error // default a timer that ctx cancels
}

// Defaults for Backoff's zero fields.
const (
	DefaultInitial    = 10 * time.Second
	DefaultMax        = 10 * time.Minute
	DefaultMultiplier = 2.0
	DefaultJitter     = 0.2
	DefaultMaxAge     = 24 * time.Hour
)

// ErrGaveUp is returned by Retry, wrapping the last error, when MaxAge has
// passed.
var ErrGaveUp = errors.New("gave up retrying")

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultInitial
	}
	if b.Max <= 0 {
		b.Max = DefaultMax
	}
	if b.Multiplier < 1 {
		b.Multiplier = DefaultMultiplier
	}
	if b.Jitter < 0 || b.Jitter > 1 {
		b.Jitter = DefaultJitter
	}
	if b.MaxAge <= 0 {
		b.MaxAge = DefaultMaxAge
	}
	if b.Now == nil {
		b.Now = time.Now
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	if b.Sleep == nil {
		b.Sleep = sleep
	}
	return b
}

// Delay returns the wait after the attempt-th failed attempt (from 1), for
// the error err (which may ask for a longer wait).
func (b Backoff) Delay(attempt int, err error) time.Duration {
	b = b.withDefaults()
	if attempt < 1 {
		attempt = 1
	}
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(attempt-1))
	if d > float64(b.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(b.Max)
	}
	d -= d * b.Jitter * b.Rand()
	delay := time.Duration(d)
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > delay {
		delay = ra.After
	}
	return delay
}

// NextAttempt returns when to try again a notification first tried at
// first whose attempt-th attempt (from 1) failed with err, and whether to
// try again at all: not when err is nil or permanent, nor when the next
// attempt would come more than MaxAge after the first. An outbox stores
// the time and calls NextAttempt again after each failure.
func (b Backoff) NextAttempt(first time.Time, attempt int, err error) (time.Time, bool) {
	if err == nil || IsPermanent(err) {
		return time.Time{}, false
	}
	b = b.withDefaults()
	next := b.Now().Add(b.Delay(attempt, err))
	if next.Sub(first) > b.MaxAge {
		return time.Time{}, false
	}
	return next, true
}

// Retry calls f until it succeeds, fails permanently, ctx ends or MaxAge
// has passed since the first call, waiting as NextAttempt says between
// calls. It returns nil, f's permanent error, ctx's error wrapping f's
// last error, or ErrGaveUp wrapping f's last error.
func Retry(ctx context.Context, b Backoff, f func() error) error {
	b = b.withDefaults()
	first := b.Now()
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || IsPermanent(err) {
			return err
		}
		next, ok := b.NextAttempt(first, attempt, err)
		if !ok {
			return fmt.Errorf("%w after %d attempts: %w", ErrGaveUp, attempt, err)
		}
		if serr := b.Sleep(ctx, next.Sub(b.Now())); serr != nil {
			return fmt.Errorf("%w (last attempt: %w)", serr, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
