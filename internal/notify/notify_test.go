package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/alert"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func TestPermanent(t *testing.T) {
	base := errors.New("550 no such user")
	err := fmt.Errorf("email n1: %w", Permanent(base))
	if !errors.Is(err, ErrPermanent) || !IsPermanent(err) || !errors.Is(err, base) {
		t.Errorf("Permanent lost a link: %v", err)
	}
	if err.Error() != "email n1: 550 no such user" {
		t.Errorf("message %q", err)
	}
	if Permanent(nil) != nil || IsPermanent(base) || IsPermanent(nil) {
		t.Error("nil or plain errors count as permanent")
	}
	ra := fmt.Errorf("x: %w", &RetryAfterError{Err: base, After: time.Minute})
	if IsPermanent(ra) || !errors.Is(ra, base) {
		t.Errorf("RetryAfterError: %v", ra)
	}
}

func TestSecret(t *testing.T) {
	s := NewSecret("hunter2-value")
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, s, s, s), fmt.Sprintf("%+v", struct{ P Secret }{s})} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret shown: %q", out)
		}
	}
	b, _ := json.Marshal(struct{ P Secret }{s})
	if string(b) != `{"P":"\u003csecret\u003e"}` {
		t.Errorf("JSON %s", b)
	}
	if s.Reveal() != "hunter2-value" || s.IsZero() || !(Secret{}).IsZero() || (Secret{}).String() != "" {
		t.Error("Reveal/IsZero/String of empty")
	}
}

func TestLoadSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) {
		if k == "SMTP_PASSWORD" {
			return "from-env", true
		}
		return "", false
	}
	tests := []struct {
		name, file, env, want, wantErr string
	}{
		{"file", file, "", "s3cret", ""},
		{"env", "", "SMTP_PASSWORD", "from-env", ""},
		{"both", file, "SMTP_PASSWORD", "", "not both"},
		{"neither", "", "", "", "no file"},
		{"missing file", filepath.Join(dir, "nope"), "", "", "no such file"},
		{"empty file", empty, "", "", "is empty"},
		{"unset env", "", "NOPE", "", "NOPE is not set"},
	}
	for _, tt := range tests {
		s, err := LoadSecret("smtp.password", tt.file, tt.env, env)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "smtp.password: ") {
				t.Errorf("%s: error %v, want one naming smtp.password with %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || s.Reveal() != tt.want {
			t.Errorf("%s: %q, %v", tt.name, s.Reveal(), err)
		}
	}
}

// fakeClock is a clock and sleeper for Backoff.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return nil
}

func TestBackoffSchedule(t *testing.T) {
	b := Backoff{Initial: 10 * time.Second, Max: 5 * time.Minute, Multiplier: 2, Jitter: 0.5, MaxAge: time.Hour,
		Rand: func() float64 { return 0 }}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		if got := b.Delay(i+1, errors.New("x")); got != w {
			t.Errorf("attempt %d: %s, want %s", i+1, got, w)
		}
	}
	// Jitter takes up to its fraction off.
	b.Rand = func() float64 { return 0.999999 }
	if got := b.Delay(1, nil); got < 5*time.Second || got > 5*time.Second+time.Millisecond {
		t.Errorf("full jitter: %s, want about 5s", got)
	}
	// A Retry-After longer than the delay wins.
	b.Rand = func() float64 { return 0 }
	if got := b.Delay(1, fmt.Errorf("429: %w", &RetryAfterError{Err: errors.New("busy"), After: 2 * time.Minute})); got != 2*time.Minute {
		t.Errorf("Retry-After: %s", got)
	}
	// Huge attempt numbers stay at the cap.
	if got := b.Delay(10000, nil); got != 5*time.Minute {
		t.Errorf("attempt 10000: %s", got)
	}
	// Zero value: the defaults.
	z := Backoff{Rand: func() float64 { return 0 }}
	if got := z.Delay(1, nil); got != DefaultInitial {
		t.Errorf("default first delay %s", got)
	}
}

func TestNextAttempt(t *testing.T) {
	clock := &fakeClock{now: t0}
	b := Backoff{Initial: time.Minute, Max: 20 * time.Minute, MaxAge: time.Hour, Now: clock.Now, Rand: func() float64 { return 0 }}
	retryable := errors.New("connection refused")
	// The schedule an outbox follows: 1, 2, 4, 8, 16 min; the next (20)
	// would end past the hour.
	var got []string
	for attempt := 1; ; attempt++ {
		next, ok := b.NextAttempt(t0, attempt, retryable)
		if !ok {
			break
		}
		got = append(got, next.Sub(t0).String())
		clock.now = next
	}
	want := []string{"1m0s", "3m0s", "7m0s", "15m0s", "31m0s", "51m0s"}
	if !slices.Equal(got, want) {
		t.Errorf("schedule %v, want %v", got, want)
	}
	if _, ok := b.NextAttempt(t0, 1, Permanent(retryable)); ok {
		t.Error("a permanent error is retried")
	}
	if _, ok := b.NextAttempt(t0, 1, nil); ok {
		t.Error("a success is retried")
	}
}

func TestRetry(t *testing.T) {
	clock := &fakeClock{now: t0}
	b := Backoff{Initial: time.Second, MaxAge: time.Minute, Now: clock.Now, Sleep: clock.Sleep, Rand: func() float64 { return 0 }}
	tests := []struct {
		name       string
		results    []error // per call; the last repeats
		wantCalls  int
		wantErr    error
		wantResult string
	}{
		{"first time", []error{nil}, 1, nil, ""},
		{"third time", []error{errors.New("a"), errors.New("b"), nil}, 3, nil, ""},
		{"permanent", []error{errors.New("a"), Permanent(errors.New("401"))}, 2, ErrPermanent, "401"},
		// 1+2+4+8+16 = 31 s, the next would be at 63 s: 6 calls.
		{"gives up", []error{errors.New("down")}, 6, ErrGaveUp, "after 6 attempts: down"},
	}
	for _, tt := range tests {
		clock.now = t0
		calls := 0
		err := Retry(context.Background(), b, func() error {
			calls++
			return tt.results[min(calls, len(tt.results))-1]
		})
		if calls != tt.wantCalls || !errors.Is(err, tt.wantErr) || (tt.wantErr != nil && !strings.Contains(err.Error(), tt.wantResult)) {
			t.Errorf("%s: %d calls, error %v; want %d calls, %v", tt.name, calls, err, tt.wantCalls, tt.wantErr)
		}
	}
	// A cancelled context ends the wait, keeping the last error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b.Sleep = nil // the real timer, which the context ends at once
	err := Retry(ctx, b, func() error { return errors.New("down") })
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "down") {
		t.Errorf("cancelled: %v", err)
	}
}

func mk(typ alert.Type, sev alert.Severity, vault string, start time.Time) alert.Alert {
	a := alert.Alert{Type: typ, Severity: sev, StartTime: start, EndTime: start.Add(time.Minute),
		Vault:    alert.Vault{Provider: "azure-keyvault", ID: "azure-keyvault:" + vault, Name: vault},
		Entities: alert.Entities{UPNs: []string{"mallory@example.com"}}}
	a.Fill()
	return a
}

func TestRoute(t *testing.T) {
	routes := Routes{
		{Address: "soc@example.com", MinSeverity: alert.SeverityMedium},
		{Address: "pay-team@example.com", Vaults: []string{"kv-pay"}},
		{Address: "ciso@example.com", MinSeverity: alert.SeverityHigh},
		{Address: "SOC@example.com", Vaults: []string{"azure-keyvault:kv-hr"}},
		{Address: "hr@example.com", Vaults: []string{"azure-keyvault:kv-hr"}, MinSeverity: alert.SeverityHigh},
	}
	cross := mk(alert.ManyVaults, alert.SeverityLow, "kv-dev", t0)
	cross.Vaults = []alert.Vault{cross.Vault, {Provider: "azure-keyvault", ID: "azure-keyvault:kv-pay", Name: "kv-pay"}}
	tests := []struct {
		name string
		a    alert.Alert
		want []string
	}{
		{"low on kv-pay", mk(alert.CredentialProbing, alert.SeverityLow, "kv-pay", t0), []string{"pay-team@example.com"}},
		{"medium on kv-dev", mk(alert.TorAccess, alert.SeverityMedium, "kv-dev", t0), []string{"soc@example.com"}},
		{"high on kv-pay", mk(alert.DecoySecretAccess, alert.SeverityHigh, "kv-pay", t0), []string{"soc@example.com", "pay-team@example.com", "ciso@example.com"}},
		{"low on kv-hr: one SOC address, case-insensitive", mk(alert.CredentialProbing, alert.SeverityLow, "kv-hr", t0), []string{"SOC@example.com"}},
		{"high on kv-hr", mk(alert.AuditTampering, alert.SeverityHigh, "kv-hr", t0), []string{"soc@example.com", "ciso@example.com", "hr@example.com"}},
		{"cross-vault low reaches kv-pay's team", cross, []string{"pay-team@example.com"}},
		{"unknown severity counts as high", func() alert.Alert { a := mk("future", "critical", "kv-dev", t0); return a }(), []string{"soc@example.com", "ciso@example.com"}},
	}
	for _, tt := range tests {
		if got := routes.Route(tt.a); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if err := routes.Validate(); err == nil || !strings.Contains(err.Error(), `"SOC@example.com" is given twice`) {
		t.Errorf("Validate: %v", err)
	}
	bad := Routes{{Address: ""}, {Address: "a@example.com", MinSeverity: "urgent", Vaults: []string{" "}}}
	err := bad.Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 2 || !strings.Contains(err.Error(), `min_severity "urgent"`) {
		t.Errorf("Validate: want three problems, got %v", err)
	}
}

func TestRateLimiter(t *testing.T) {
	rl := NewRateLimiter(nil, 0, 0)
	rcpt := "soc@example.com"
	var sent, held int
	// 5 highs, 3 mediums and 2 lows in a morning.
	for i, sev := range []alert.Severity{"high", "high", "high", "high", "high", "medium", "medium", "medium", "low", "low"} {
		a := mk(alert.DecoySecretAccess, sev, "kv-pay", t0.Add(time.Duration(i)*time.Minute))
		if rl.Allow(rcpt, a, t0.Add(time.Duration(i)*time.Minute)) {
			sent++
		} else {
			held++
		}
	}
	if sent != 4+2+1 || held != 3 {
		t.Fatalf("sent %d, held %d; want 7 and 3", sent, held)
	}
	// Another recipient has its own counts.
	if !rl.Allow("ciso@example.com", mk(alert.DecoySecretAccess, "high", "kv-pay", t0), t0) {
		t.Error("another recipient was limited")
	}
	// Not due before the first held alert has waited an hour.
	if d := rl.Digests(t0.Add(59 * time.Minute)); len(d) != 0 {
		t.Errorf("digests after 59 min: %+v", d)
	}
	// Saved and restored, the state goes on.
	b, err := rl.Save()
	if err != nil {
		t.Fatal(err)
	}
	rl2 := NewRateLimiter(nil, 0, 0)
	if err := rl2.Load(b); err != nil {
		t.Fatal(err)
	}
	if rl2.Allow(rcpt, mk(alert.DecoySecretAccess, "high", "kv-pay", t0.Add(30*time.Minute)), t0.Add(30*time.Minute)) {
		t.Error("the restored limiter forgot the day's count")
	}
	d := rl2.Digests(t0.Add(64 * time.Minute))
	if len(d) != 1 || d[0].Recipient != rcpt || len(d[0].Alerts) != 4 {
		t.Fatalf("digests %+v, want one of 4 alerts", d)
	}
	if d[0].Alerts[0].Evidence.Objects != nil || d[0].Alerts[0].Remediation != nil || d[0].Alerts[0].Title == "" {
		t.Errorf("held alerts keep their evidence or lose their title: %+v", d[0].Alerts[0])
	}
	if id := d[0].ID(); !strings.HasPrefix(id, "digest-") || id != d[0].ID() {
		t.Errorf("digest id %q", id)
	}
	if d := rl2.Digests(t0.Add(3 * time.Hour)); len(d) != 0 {
		t.Errorf("a digest sent twice: %+v", d)
	}
	// The next UTC day starts new counts.
	day2 := t0.Add(24 * time.Hour)
	if !rl2.Allow(rcpt, mk(alert.DecoySecretAccess, "high", "kv-pay", day2), day2) {
		t.Error("the limit did not reset at the next day")
	}
	if err := rl2.Load([]byte("{")); err == nil || !strings.Contains(err.Error(), "rate limiter state") {
		t.Errorf("Load of bad JSON: %v", err)
	}
}

func TestRateLimiterDayEnd(t *testing.T) {
	rl := NewRateLimiter(Limits{alert.SeverityHigh: 0}, 6*time.Hour, 2)
	late := time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)
	for i := range 3 {
		a := mk(alert.DecoySecretAccess, "high", "kv-pay", late.Add(time.Duration(i)*time.Minute))
		if rl.Allow("soc@example.com", a, late.Add(time.Duration(i)*time.Minute)) {
			t.Fatal("a limit of 0 let an alert through")
		}
	}
	// Medium is not limited.
	if !rl.Allow("soc@example.com", mk(alert.TorAccess, "medium", "kv-pay", late), late) {
		t.Error("an unlimited severity was held")
	}
	if d := rl.Digests(late.Add(29 * time.Minute)); len(d) != 0 {
		t.Errorf("due before the day's end: %+v", d)
	}
	d := rl.Digests(late.Add(30 * time.Minute))
	if len(d) != 1 || len(d[0].Alerts) != 2 || d[0].Dropped != 1 {
		t.Fatalf("at midnight: %+v, want one digest of 2 alerts, 1 dropped", d)
	}
}

func TestDedup(t *testing.T) {
	d := NewDedup(3)
	for _, id := range []string{"a", "b", "c", "a"} {
		d.Add(id)
	}
	if !d.Has("a") || !d.Has("c") || d.Has("z") || d.Len() != 3 {
		t.Fatalf("after a b c a: %d ids", d.Len())
	}
	d.Add("d") // forgets a, the oldest
	if d.Has("a") || !d.Has("b") || !d.Has("d") || d.Len() != 3 {
		t.Errorf("after d: a %v b %v d %v, %d ids", d.Has("a"), d.Has("b"), d.Has("d"), d.Len())
	}
	d.Add("e")
	d.Add("f")
	d.Add("g")
	if d.Has("b") || d.Has("d") || !d.Has("g") {
		t.Error("ring did not wrap")
	}
	if NewDedup(0).size != DefaultDedupSize {
		t.Error("default size")
	}
}

func TestLimitSettings(t *testing.T) {
	none, zero, two := -1, 0, 2
	rl := LimitSettings{High: &none, Medium: &zero, Low: &two}.RateLimiter()
	for i := range 10 {
		if !rl.Allow("a", mk(alert.DecoySecretAccess, "high", "kv", t0), t0.Add(time.Duration(i))) {
			t.Fatal("high was limited with -1")
		}
	}
	if rl.Allow("a", mk(alert.TorAccess, "medium", "kv", t0), t0) {
		t.Error("medium was sent with 0")
	}
	low := 0
	for range 3 {
		if rl.Allow("a", mk(alert.CredentialProbing, "low", "kv", t0), t0) {
			low++
		}
	}
	if low != 2 {
		t.Errorf("%d lows sent, want 2", low)
	}
	if d := (LimitSettings{}).RateLimiter(); d.limits[alert.SeverityHigh] != 4 || d.digestEvery != time.Hour || d.maxHeld != DefaultMaxHeld {
		t.Errorf("defaults: %+v", d.limits)
	}
	bad := -2
	err := LimitSettings{High: &bad, DigestEvery: -time.Second, MaxHeld: -1}.Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 2 || !strings.Contains(err.Error(), "rate_limits.high") {
		t.Errorf("Validate: %v", err)
	}
	if err := (LimitSettings{High: &none}).Validate(); err != nil {
		t.Error(err)
	}
}
