// Package detect is the streaming detection engine: it sees access events
// one at a time, in time order, asks every detector whether the event is
// suspicious given what has been learned so far, then learns from it.
// Findings are aggregated into alerts: one alert per (type, vault,
// principal, burst), however many events the burst holds.
//
// A batch scan drives the engine over files; the server drives the same
// engine event by event. Time is the events' time, never the wall clock.
package detect

import (
	"fmt"
	"net/netip"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
	"vaultwatch/internal/intel"
)

// Detector looks at events. A detector is a small state machine: it may
// keep bounded state of its own (windows, counters), and reads the shared
// learned state through the Context. It must not keep the event.
type Detector interface {
	// Types are the alert types it raises.
	Types() []alert.Type
	// Observe looks at one event before the engine learns from it, and
	// raises findings through c.Raise.
	Observe(c *Context)
}

// Context is what a detector sees of one event.
type Context struct {
	Event *event.Event
	// IP is what threat intelligence knows of the event's address.
	IP intel.Class
	// Principal is the caller's key: its most specific stable id, or
	// "ip:<address>" for anonymous callers.
	Principal string
	// Config is the engine's configuration.
	Config *Config
	// VaultSince is when the engine first saw the event's vault.
	VaultSince time.Time
	// Since is when the engine first saw the caller anywhere, and
	// SinceOnVault when it first saw it on this vault (this event's time
	// for a first call; zero for anonymous callers).
	Since, SinceOnVault time.Time
	// Net is the event's network (the /24 or /48 of its address), and
	// NetSince when anyone first called from it; zero without an address.
	Net      netip.Prefix
	NetSince time.Time

	raise      func(Finding)
	readBefore func(*event.Event) bool
	nearby     func(netip.Addr, time.Time) bool
}

// ReadBefore reports whether the event's caller read the event's object on
// its vault before this event, as far as the engine knows (it keeps the
// first readers of each object, a few dozen at most).
func (c *Context) ReadBefore() bool { return c.readBefore != nil && c.readBefore(c.Event) }

// NearbyBefore reports whether anyone called from the event's address's
// neighbourhood before t: any /24 of its /16 for IPv4 (a cloud region's or
// an ISP's block), its /48 for IPv6. The organisation's own workloads come
// from a few such blocks; an address far from all of them is somewhere it
// has never been.
func (c *Context) NearbyBefore(t time.Time) bool {
	return c.nearby != nil && c.Event.IP.IsValid() && c.nearby(c.Event.IP, t)
}

// Raise reports a finding about the current event.
func (c *Context) Raise(f Finding) { c.raise(f) }

// VaultLearned reports whether the event's vault has been watched for the
// learning period: before that, nothing about it is "unusual".
func (c *Context) VaultLearned() bool {
	return c.Event.Time.Sub(c.VaultSince) >= c.Config.LearningPeriod
}

// Finding is a detector's verdict on one event: this event is part of an
// alert of this type.
type Finding struct {
	Type alert.Type
	// Severity overrides the catalogue's, when the detector knows better
	// (a decoy read by a privileged token, say); "" keeps it.
	Severity alert.Severity
	// Key groups findings into one alert beyond (type, vault); empty means
	// the principal.
	Key string
	// Explanation says, in numbers, what normal looks like and how far the
	// event is from it. The alert keeps the first finding's.
	Explanation string
	Facts       []alert.Fact
	// Vaults are the other vaults involved, for cross-vault alerts.
	Vaults []event.Vault
	// CrossVault makes one alert of the findings of every vault (for the
	// same type and key), rather than one per vault.
	CrossVault bool
	// AllCallers makes the alert's evidence everyone's calls to the vault,
	// for findings about the vault as a whole; Key should then name the
	// finding rather than a caller.
	AllCallers bool
	// Prior is the suspicious activity that came before this event, when a
	// detector could tell only later that it was suspicious; nil for none.
	Prior *Prior
}

// Prior is activity a detector held back until it proved suspicious: an
// application's calls from a new network, raised once its own networks
// prove still in use. The alert's window and evidence are the prior
// activity's, not the event that confirmed it.
type Prior struct {
	Start, End time.Time
	IP         netip.Addr
	IPClass    intel.Class
	Count      int
	Operations map[string]int
	Objects    []alert.Object
	// Net, when valid, limits the alert's further evidence to calls from
	// it: the confirming calls are the legitimate caller's.
	Net netip.Prefix
}

// maxPriorObjects bounds the objects a Prior keeps.
const maxPriorObjects = 200

// record adds one call to the prior activity.
func (p *Prior) record(e *event.Event) {
	p.Count++
	if e.Time.After(p.End) {
		p.End = e.Time
	}
	if p.Operations == nil {
		p.Operations = map[string]int{}
	}
	p.Operations[e.Operation.Name]++
	if e.Object.Name == "" {
		return
	}
	for i := range p.Objects {
		o := &p.Objects[i]
		if o.Name == e.Object.Name && o.Kind == string(e.Object.Kind) {
			o.Count++
			o.Operations[e.Operation.Name]++
			if e.Time.After(o.Last) {
				o.Last = e.Time
			}
			return
		}
	}
	if len(p.Objects) < maxPriorObjects {
		p.Objects = append(p.Objects, alert.Object{Kind: string(e.Object.Kind), Name: e.Object.Name,
			First: e.Time, Last: e.Time, Count: 1, Operations: map[string]int{e.Operation.Name: 1}})
	}
}

// Config configures the engine.
type Config struct {
	// LearningPeriod is how long a vault, or a principal on a vault, is
	// watched before "unusual" alerts may fire about it (default 7 days).
	// Threat-intelligence and decoy alerts fire at once.
	LearningPeriod time.Duration
	// BurstGap ends an alert: findings of the same (type, vault, principal)
	// further apart than this start a new alert (default 1 hour).
	BurstGap time.Duration
	// Intel classifies addresses; nil knows nothing.
	Intel *intel.Set
	// Decoys match decoy secrets.
	Decoys *Decoys
	// Since and Until limit the alerts reported (the engine still learns
	// from every event).
	Since, Until time.Time
}

func (c *Config) defaults() {
	if c.LearningPeriod <= 0 {
		c.LearningPeriod = 7 * 24 * time.Hour
	}
	if c.BurstGap <= 0 {
		c.BurstGap = time.Hour
	}
}

// principalKey returns the caller's key: its most specific stable id, or
// the address for anonymous callers.
func principalKey(e *event.Event) string {
	if p := e.Caller.Principal(); p != "" {
		return p
	}
	if e.IP.IsValid() {
		return "ip:" + e.IP.String()
	}
	if e.Host != "" {
		return "host:" + e.Host
	}
	return "anonymous"
}

// ipString is the event's address as text, or its host.
func ipString(e *event.Event) string {
	if e.IP.IsValid() {
		return e.IP.String()
	}
	return e.Host
}

// human writes a duration for people: "40 seconds", "16 minutes",
// "5 hours", "9.6 days".
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return plural(int(d.Seconds()), "second")
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
