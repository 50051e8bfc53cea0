package api

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-20T09:21:40Z", time.Date(2026, 11, 20, 9, 21, 40, 0, time.UTC), true},
		{"2026-11-20T10:21:40+01:00", time.Date(2026, 11, 20, 9, 21, 40, 0, time.UTC), true},
		{"2026-11-20T09:21:40.5Z", time.Date(2026, 11, 20, 9, 21, 40, 5e8, time.UTC), true},
		{"2026-11-20T09:21", time.Date(2026, 11, 20, 9, 21, 0, 0, time.UTC), true},
		{"2026-11-20T09:21:07", time.Date(2026, 11, 20, 9, 21, 7, 0, time.UTC), true},
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), true},
		{"20/11/2026", time.Time{}, false},
		{"0000-01-01", time.Time{}, false},
		{"1969-12-31T23:59:59Z", time.Time{}, false},
		{"2200-01-01", time.Time{}, false},
		{"9999-12-31T23:59:59Z", time.Time{}, false},
		{"now", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseBucket(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"15m", 15 * time.Minute}, {"1h", time.Hour}, {"1d", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour},
		{"0s", 0}, {"-1h", 0}, {"0d", 0}, {"d", 0}, {"1w", 0}, {"", 0},
	}
	for _, tt := range tests {
		got, err := ParseBucket(tt.in)
		if got != tt.want || (err == nil) != (tt.want > 0) {
			t.Errorf("ParseBucket(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestAutoBucket(t *testing.T) {
	tests := []struct {
		span time.Duration
		n    int
		want time.Duration
	}{
		{time.Hour, 60, time.Minute},
		{24 * time.Hour, 24, time.Hour},
		{24 * time.Hour, 48, time.Hour},
		{7 * 24 * time.Hour, 48, 6 * time.Hour},
		{30 * 24 * time.Hour, 48, 24 * time.Hour},
		{365 * 24 * time.Hour, 24, 7 * 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := AutoBucket(tt.span, tt.n); got != tt.want {
			t.Errorf("AutoBucket(%v, %d) = %v, want %v", tt.span, tt.n, got, tt.want)
		}
	}
}

func TestParseIfMatch(t *testing.T) {
	for in, want := range map[string]int{"": 0, "3": 3, `"3"`: 3, `W/"12"`: 12, " 4 ": 4, "abc": -1, `"0"`: -1, "*": -1} {
		got, err := parseIfMatch(in)
		if want < 0 {
			if err == nil {
				t.Errorf("parseIfMatch(%q) = %d, want an error", in, got)
			}
		} else if err != nil || got != want {
			t.Errorf("parseIfMatch(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestFormatBucket(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute: "1m", 15 * time.Minute: "15m", time.Hour: "1h", 6 * time.Hour: "6h", 24 * time.Hour: "1d",
		7 * 24 * time.Hour: "7d", 90 * time.Second: "1m30s", 36 * time.Hour: "36h",
	} {
		got := FormatBucket(d)
		if got != want {
			t.Errorf("FormatBucket(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseBucket(got); err != nil || back != d {
			t.Errorf("ParseBucket(FormatBucket(%v)) = %v, %v", d, back, err)
		}
	}
}
