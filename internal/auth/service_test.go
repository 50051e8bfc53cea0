package auth

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/store"
)

var (
	ip1 = netip.MustParseAddr("192.0.2.10")
	ip2 = netip.MustParseAddr("192.0.2.11")
)

func TestAuthenticate(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	ctx := context.Background()
	if err := e.svc.CreateUser(ctx, "gone", RoleViewer, "disabled user pw"); err != nil {
		t.Fatal(err)
	}
	e.secret("disabled user pw", "wrong password!!", "no such user pw")
	u, err := e.st.User(ctx, "gone")
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := e.st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, user, password string
		want                 error
	}{
		{"right", RoleResponder, responderPW, nil},
		{"wrong password", RoleResponder, "wrong password!!", ErrBadCredentials},
		{"unknown user", "nobody", "no such user pw", ErrBadCredentials},
		{"disabled, right password", "gone", "disabled user pw", ErrDisabled},
		{"disabled, wrong password", "gone", "wrong password!!", ErrBadCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.svc.verified.Load()
			u, err := e.svc.Authenticate(ctx, tc.user, tc.password, ip1)
			if !errors.Is(err, tc.want) || tc.want == nil && err != nil {
				t.Fatalf("Authenticate = %v, want %v", err, tc.want)
			}
			if tc.want == nil && (u.Name != tc.user || string(u.Role) != RoleResponder) {
				t.Errorf("user = %+v", u)
			}
			// Every path hashes once: an unknown user's password is checked
			// against the dummy hash, so it takes as long as a known one's.
			if n := e.svc.verified.Load() - before; n != 1 {
				t.Errorf("%d password checks, want 1", n)
			}
		})
	}
}

func TestCreateUserRefuses(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	const pw = "long enough password"
	e.secret(pw)
	for _, tc := range []struct {
		name, user, role, password string
		want                       error
	}{
		{"empty name", "", RoleViewer, pw, store.ErrInvalid},
		{"space in name", "a b", RoleViewer, pw, store.ErrInvalid},
		{"control character", "a\nb", RoleViewer, pw, store.ErrInvalid},
		{"long name", strings.Repeat("a", 65), RoleViewer, pw, store.ErrInvalid},
		{"unknown role", "alice", "root", pw, store.ErrInvalid},
		{"ingest is no user role", "alice", RoleIngest, pw, store.ErrInvalid},
		{"short password", "alice", RoleViewer, "short", ErrWeakPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.svc.CreateUser(ctx, tc.user, tc.role, tc.password); !errors.Is(err, tc.want) {
				t.Errorf("CreateUser = %v, want %v", err, tc.want)
			}
		})
	}
	if err := e.svc.CreateUser(ctx, "alice", RoleViewer, pw); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CreateUser(ctx, "alice", RoleAdmin, pw); !errors.Is(err, store.ErrExists) {
		t.Errorf("second CreateUser = %v, want ErrExists", err)
	}
	u, err := e.st.User(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$") || strings.Contains(u.PasswordHash, pw) {
		t.Errorf("stored hash %q", u.PasswordHash)
	}
	if !u.CreatedAt.Equal(e.clock.Now()) {
		t.Errorf("created %v, want %v", u.CreatedAt, e.clock.Now())
	}
}

func TestSetPassword(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	ctx := context.Background()
	id, _ := e.login(RoleViewer, viewerPW, "")
	const newPW = "a brand new password"
	e.secret(newPW)
	if err := e.svc.SetPassword(ctx, RoleViewer, "short"); !errors.Is(err, ErrWeakPassword) {
		t.Errorf("SetPassword(short) = %v", err)
	}
	if err := e.svc.SetPassword(ctx, "nobody", newPW); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword(nobody) = %v", err)
	}
	if err := e.svc.SetPassword(ctx, RoleViewer, newPW); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, RoleViewer, viewerPW, ip1); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("old password: %v", err)
	}
	if _, err := e.svc.Authenticate(ctx, RoleViewer, newPW, ip1); err != nil {
		t.Errorf("new password: %v", err)
	}
	if p := e.whoami(id); p != nil {
		t.Errorf("the session opened before the change still works: %+v", p)
	}
}

func TestRehashOnLogin(t *testing.T) {
	e := newEnv(t, Options{})
	e.users()
	ctx := context.Background()
	u, _ := e.st.User(ctx, RoleViewer)
	old, err := hashWith(argonParams{memory: 8192, time: 1, threads: 1}, viewerPW) // as an older release would have
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = old
	if err := e.st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, RoleViewer, viewerPW, ip1); err != nil {
		t.Fatal(err)
	}
	u, _ = e.st.User(ctx, RoleViewer)
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash not made again with today's parameters: %q", u.PasswordHash)
	}
	if _, err := e.svc.Authenticate(ctx, RoleViewer, viewerPW, ip1); err != nil {
		t.Errorf("after rehash: %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{LoginLimit: 3, IPLoginLimit: 5})
	e.users()
	ctx := context.Background()
	e.secret("wrong password!!")
	fail := func(user string, ip netip.Addr) {
		t.Helper()
		if _, err := e.svc.Authenticate(ctx, user, "wrong password!!", ip); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("Authenticate(%s, wrong) = %v", user, err)
		}
	}
	limited := func(user, pw string, ip netip.Addr) time.Duration {
		t.Helper()
		before := e.svc.verified.Load()
		_, err := e.svc.Authenticate(ctx, user, pw, ip)
		var rl *RateLimitError
		if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) {
			t.Fatalf("Authenticate(%s) from %s = %v, want rate limited", user, ip, err)
		}
		if e.svc.verified.Load() != before {
			t.Error("a rate-limited login checked the password")
		}
		return rl.RetryAfter
	}

	fail(RoleViewer, ip1)
	e.clock.Advance(time.Minute)
	fail(RoleViewer, ip1)
	fail(RoleViewer, ip1)
	// The right password is refused now too, for this name from this address.
	if wait := limited(RoleViewer, viewerPW, ip1); wait != 14*time.Minute {
		t.Errorf("retry after %v, want 14m (the first failure leaves the window then)", wait)
	}
	// Another address, or another name, is not limited.
	if _, err := e.svc.Authenticate(ctx, RoleViewer, viewerPW, ip2); err != nil {
		t.Errorf("from another address: %v", err)
	}
	// The address has 3 failures; 2 more with other names and it is limited
	// whatever the name.
	fail(RoleResponder, ip1)
	fail("nobody", ip1)
	limited(RoleAdmin, adminPW, ip1)
	limited("someone-else", "whatever password", ip1)

	e.clock.Advance(14*time.Minute - time.Second)
	if wait := limited(RoleViewer, viewerPW, ip1); wait != time.Second {
		t.Errorf("retry after %v, want 1s", wait)
	}
	e.clock.Advance(time.Second) // the first failure has left the window
	for _, u := range []struct{ name, pw string }{{RoleViewer, viewerPW}, {RoleAdmin, adminPW}} {
		if _, err := e.svc.Authenticate(ctx, u.name, u.pw, ip1); err != nil {
			t.Errorf("%s after the window: %v", u.name, err)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := newClock().Now()
	l := newLimiter(15*time.Minute, 2, 100)
	a := netip.MustParseAddr("2001:db8:1:2:3:4:5:6")
	b := netip.MustParseAddr("2001:db8:1:2:ffff::1") // same /64
	c := netip.MustParseAddr("2001:db8:1:3::1")      // another /64
	l.fail("u", a, now)
	l.fail("u", b, now)
	if l.wait("u", a, now) == 0 {
		t.Error("an IPv6 /64 is not counted as one address")
	}
	if l.wait("u", c, now) != 0 {
		t.Error("another /64 is limited")
	}
	l.succeed("u", a)
	if l.wait("u", b, now) != 0 {
		t.Error("a success did not forget the failures")
	}
	if got := addressKey(netip.MustParseAddr("::ffff:192.0.2.1")); got != "192.0.2.1" {
		t.Errorf("mapped address key %q", got)
	}
	// The maps are bounded: past the cap expired entries go, then all.
	for i := range maxLimiterKeys + 10 {
		l.fail("u", netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), now)
	}
	if len(l.byUserIP) > maxLimiterKeys || len(l.byAddress) > maxLimiterKeys {
		t.Errorf("limiter holds %d and %d keys, cap %d", len(l.byUserIP), len(l.byAddress), maxLimiterKeys)
	}
}

func TestEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	t.Run("environment", func(t *testing.T) {
		e := newEnv(t, Options{})
		const pw = "admin from the env"
		e.secret(pw)
		var out bytes.Buffer
		if err := e.svc.EnsureAdmin(ctx, pw, &out); err != nil {
			t.Fatal(err)
		}
		if out.Len() != 0 {
			t.Errorf("printed %q", out.String())
		}
		u, err := e.svc.Authenticate(ctx, AdminUser, pw, ip1)
		if err != nil || string(u.Role) != RoleAdmin {
			t.Fatalf("admin: %+v, %v", u, err)
		}
		// A later start with another password changes nothing.
		if err := e.svc.EnsureAdmin(ctx, "another admin password", &out); err != nil || out.Len() != 0 {
			t.Errorf("second start: %v, printed %q", err, out.String())
		}
		if _, err := e.svc.Authenticate(ctx, AdminUser, pw, ip1); err != nil {
			t.Errorf("the password changed on the second start: %v", err)
		}
	})
	t.Run("short environment password", func(t *testing.T) {
		e := newEnv(t, Options{})
		err := e.svc.EnsureAdmin(ctx, "short", &bytes.Buffer{})
		if !errors.Is(err, ErrWeakPassword) || !strings.Contains(err.Error(), "VAULTWATCH_ADMIN_PASSWORD") {
			t.Errorf("EnsureAdmin = %v", err)
		}
		if users, _ := e.st.Users(ctx); len(users) != 0 {
			t.Errorf("users: %+v", users)
		}
	})
	t.Run("generated", func(t *testing.T) {
		e := newEnv(t, Options{})
		var out bytes.Buffer
		if err := e.svc.EnsureAdmin(ctx, "", &out); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`^first start: log in as admin with password (\S{12,})\n$`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("printed %q", out.String())
		}
		e.secret(m[1])
		if _, err := e.svc.Authenticate(ctx, AdminUser, m[1], ip1); err != nil {
			t.Errorf("the printed password: %v", err)
		}
		out.Reset()
		if err := e.svc.EnsureAdmin(ctx, "", &out); err != nil || out.Len() != 0 {
			t.Errorf("second start: %v, printed %q", err, out.String())
		}
	})
	t.Run("output fails", func(t *testing.T) {
		e := newEnv(t, Options{})
		if err := e.svc.EnsureAdmin(ctx, "", failWriter{}); err == nil {
			t.Fatal("no error")
		}
		if users, _ := e.st.Users(ctx); len(users) != 0 {
			t.Errorf("an admin nobody knows the password of was kept: %+v", users)
		}
	})
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed") }
