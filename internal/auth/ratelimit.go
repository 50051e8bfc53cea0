package auth

import (
	"net/netip"
	"sync"
	"time"
)

// maxLimiterKeys bounds each map of the login limiter. Past it, expired
// entries are dropped; if that is not enough the map starts afresh.
const maxLimiterKeys = 100_000

// maxLimiterName bounds the part of a user name a limiter key keeps.
const maxLimiterName = 256

// limiter counts failed logins in a sliding window, per user name and
// address, and per address whatever the name. An IPv6 address counts as
// its /64: one host usually holds a whole /64.
type limiter struct {
	window              time.Duration
	userLimit, ipLimit  int
	mu                  sync.Mutex
	byUserIP, byAddress map[string][]time.Time
}

func newLimiter(window time.Duration, userLimit, ipLimit int) *limiter {
	return &limiter{
		window: window, userLimit: userLimit, ipLimit: ipLimit,
		byUserIP: map[string][]time.Time{}, byAddress: map[string][]time.Time{},
	}
}

// addressKey is the key an address is counted under.
func addressKey(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "unknown"
	case ip.Is6():
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

func userKey(name string, ip netip.Addr) string {
	if len(name) > maxLimiterName {
		name = name[:maxLimiterName]
	}
	return addressKey(ip) + "\x00" + name
}

// wait returns how long a login of name from ip must wait: 0 when it may
// be tried now.
func (l *limiter) wait(name string, ip netip.Addr, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.waitLocked(l.byUserIP, userKey(name, ip), l.userLimit, now),
		l.waitLocked(l.byAddress, addressKey(ip), l.ipLimit, now))
}

func (l *limiter) waitLocked(m map[string][]time.Time, key string, limit int, now time.Time) time.Duration {
	times := l.recent(m, key, now)
	if len(times) < limit {
		return 0
	}
	return times[len(times)-limit].Add(l.window).Sub(now)
}

// recent drops the failures of key that left the window and returns the
// others, oldest first.
func (l *limiter) recent(m map[string][]time.Time, key string, now time.Time) []time.Time {
	times := m[key]
	i := 0
	for i < len(times) && !times[i].Add(l.window).After(now) {
		i++
	}
	if i == len(times) {
		delete(m, key)
		return nil
	}
	if i > 0 {
		times = append(times[:0], times[i:]...)
		m[key] = times
	}
	return times
}

// fail records a failed login.
func (l *limiter) fail(name string, ip netip.Addr, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.add(l.byUserIP, userKey(name, ip), l.userLimit, now)
	l.add(l.byAddress, addressKey(ip), l.ipLimit, now)
}

func (l *limiter) add(m map[string][]time.Time, key string, limit int, now time.Time) {
	times := l.recent(m, key, now)
	if times == nil && len(m) >= maxLimiterKeys {
		for k := range m {
			l.recent(m, k, now)
		}
		if len(m) >= maxLimiterKeys {
			clear(m)
		}
	}
	times = append(times, now)
	if len(times) > limit {
		times = times[len(times)-limit:]
	}
	m[key] = times
}

// succeed forgets the failures of name from ip (not those of the address).
func (l *limiter) succeed(name string, ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byUserIP, userKey(name, ip))
}
