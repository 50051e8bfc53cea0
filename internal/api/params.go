package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// timeLayouts are the forms ParseTime accepts, UTC unless they say
// otherwise: RFC 3339, an HTML datetime-local value, a date.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// The times a query may name: what the store keeps as nanoseconds since
// 1970 (up to 2262) with room for ranges and buckets.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// ParseTime reads a time given as RFC 3339 ("2026-11-20T09:21:40Z"), as an
// HTML datetime-local value ("2026-11-20T09:21", UTC) or as a date
// ("2026-11-20", midnight UTC), from 1970 to 2199.
func ParseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Before(minTime) || !t.Before(maxTime) {
				return time.Time{}, fmt.Errorf("%q is out of range (1970 to 2199)", s)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339, YYYY-MM-DDTHH:MM or YYYY-MM-DD)", s)
}

// ParseBucket reads a positive bucket length: a Go duration ("15m", "1h")
// or a number of days ("1d").
func ParseBucket(s string) (time.Duration, error) {
	var (
		d   time.Duration
		err error
	)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		days, err = strconv.Atoi(n)
		d = time.Duration(days) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration (15m, 1h, 1d)", s)
	}
	return d, nil
}

// FormatBucket writes a bucket length the way ParseBucket reads it: "1d",
// "6h", "15m", else a Go duration.
func FormatBucket(d time.Duration) string {
	switch {
	case d > 0 && d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d > 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d > 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// maxBuckets bounds the points of a time series a request may ask for.
const maxBuckets = 2000

// query reads a request's query parameters, collecting every problem.
type query struct {
	v    url.Values
	errs []error
}

// newQuery starts reading r's query; parameters not in allowed are errors.
func newQuery(r *http.Request, allowed ...string) *query {
	q := &query{v: r.URL.Query()}
	var unknown []string
	for k := range q.v {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		q.errs = append(q.errs, fmt.Errorf("unknown parameter %q (known: %s)", k, strings.Join(allowed, ", ")))
	}
	for k, vs := range q.v {
		if len(vs) > 1 && slices.Contains(allowed, k) {
			q.errs = append(q.errs, fmt.Errorf("parameter %q given %d times", k, len(vs)))
		}
	}
	return q
}

func (q *query) fail(name string, err error) {
	q.errs = append(q.errs, fmt.Errorf("parameter %s: %w", name, err))
}

// str returns a parameter, trimmed.
func (q *query) str(name string) string { return strings.TrimSpace(q.v.Get(name)) }

// oneOf returns a parameter that must be empty or one of valid.
func (q *query) oneOf(name string, valid []string) string {
	s := q.str(name)
	if s != "" && !slices.Contains(valid, s) {
		q.fail(name, fmt.Errorf("%q is not one of %s", s, strings.Join(valid, ", ")))
	}
	return s
}

// time returns a time parameter, zero when absent.
func (q *query) time(name string) time.Time {
	s := q.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := ParseTime(s)
	if err != nil {
		q.fail(name, err)
	}
	return t
}

// int returns an integer parameter in [lo, hi], def when absent.
func (q *query) int(name string, def, lo, hi int) int {
	s := q.str(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		q.fail(name, fmt.Errorf("%q is not a whole number from %d to %d", s, lo, hi))
		return def
	}
	return n
}

// ip returns an address parameter in its canonical form.
func (q *query) ip(name string) string {
	s := q.str(name)
	if s == "" {
		return ""
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		q.fail(name, fmt.Errorf("%q is not an IP address", s))
		return s
	}
	return a.Unmap().String()
}

// series reads from, to and bucket for a time series: to defaults to now,
// from to a day before to, bucket to a length giving about 24 points.
func (q *query) series(now time.Time) (from, to time.Time, bucket time.Duration) {
	from, to = q.time("from"), q.time("to")
	if to.IsZero() {
		to = now.UTC()
	}
	if from.IsZero() {
		from = to.Add(-24 * time.Hour)
	}
	if s := q.str("bucket"); s != "" {
		b, err := ParseBucket(s)
		if err != nil {
			q.fail("bucket", err)
		}
		bucket = b
	}
	if !from.Before(to) {
		q.fail("from", fmt.Errorf("%s is not before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339)))
		return from, to, time.Hour
	}
	if bucket == 0 {
		bucket = AutoBucket(to.Sub(from), 24)
	}
	if n := buckets(to.Sub(from), bucket); n > maxBuckets {
		q.fail("bucket", fmt.Errorf("%s over %s makes %d points, more than %d", bucket, to.Sub(from), n, maxBuckets))
	}
	return from, to, bucket
}

// buckets returns how many buckets cut span, the last one partial; no
// overflow for any positive span and bucket.
func buckets(span, bucket time.Duration) int64 {
	n := int64(span / bucket)
	if span%bucket != 0 {
		n++
	}
	return n
}

// AutoBucket returns a round bucket length (a minute, 5 or 15 minutes, an
// hour, 3, 6 or 12 hours, a day, a week) that cuts span into at most about
// n buckets.
func AutoBucket(span time.Duration, n int) time.Duration {
	for _, b := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour,
		3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour} {
		if span/b <= time.Duration(n) {
			return b
		}
	}
	return 7 * 24 * time.Hour
}

// err returns every problem found, nil when none.
func (q *query) err() error { return errors.Join(q.errs...) }
