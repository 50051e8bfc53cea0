package detect

import (
	"fmt"
	"net/netip"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// UnusualIP raises unusual-ip when a principal known on a vault calls it
// successfully from a network (/24, /48) it never used there, that nobody in
// the organisation has used, and whose kind (a cloud provider, a private
// range, the internet) is not one the principal uses. A network a colleague
// already uses (an office, the corporate VPN when travelling) is not
// unusual; a cloud address still alerts when the principal does not
// normally call from that cloud, labelled as such in the alert.
//
// An application's new network may be a move (a redeployment to new
// addresses) or its stolen credential in use elsewhere. The difference
// shows next: after a move the old networks fall silent, while a thief
// works beside the application, which goes on calling from its own. So for
// applications the alert waits for the application's next call from a
// network it knew, within a day, and is raised then.
//
// A person's new network may be a trip (a hotel, a phone's hotspot, a
// conference) or their stolen credential in use. A traveller reads what
// they always read, and switches between the new network and the
// corporate VPN, so neither being there nor being in two places tells.
// For people the alert is raised by what they do from the new network
// within a day of their last call from it: a read of an object they never
// read on the vault, a backup, a delete or a purge.

type UnusualIP struct {
	pairs map[vp]*netProfile

	lastPair lastEntry[vp, netProfile] // the last pair's entry in pairs
}

type netProfile struct {
	nets    []netip.Prefix // most callers use one or two: a slice is smaller than a map
	kinds   uint8          // bit per kind of network, see kindBit
	pending *pendingNet    // an application's new network, waiting for its old ones
}

// kindBit is the bit of a kind of network in netProfile.kinds.
func kindBit(kind string) uint8 {
	switch kind {
	case "private":
		return 1 << 1
	case "cloud:azure":
		return 1 << 2
	case "cloud:aws":
		return 1 << 3
	case "cloud:gcp":
		return 1 << 4
	case "internet":
		return 1 << 0
	}
	return 1 << 5
}

func (p *netProfile) knows(nw netip.Prefix) bool {
	for _, n := range p.nets {
		if n == nw {
			return true
		}
	}
	return false
}

type pendingNet struct {
	prior Prior
	label string
	// byDeeds is set for a person's new network and an application's new
	// address in its own cloud: only what is done from it raises, not
	// calls from the known networks meanwhile.
	byDeeds bool
}

// concurrentWindow is how long an application's new network waits for a
// call from its old networks: a day covers applications that run daily.
const concurrentWindow = 24 * time.Hour

// maxNetsPerPair bounds a principal's networks on a vault; past it the
// principal roams and its networks are not judged.
const maxNetsPerPair = 64

// principalLearning is how long a caller must have used a vault before its
// networks there are judged: a day, or the learning period if shorter. A
// caller's networks are few (an office, a home, a VPN, an application's
// hosts) and a day of its calls shows them; what guards against a merely
// new place is elsewhere: the network must be new to the whole
// organisation, and an application's must be confirmed by its own networks
// staying in use.
func principalLearning(c *Context) time.Duration {
	return min(c.Config.LearningPeriod, 24*time.Hour)
}

// Types implements Detector.
func (*UnusualIP) Types() []alert.Type { return []alert.Type{alert.UnusualIP} }

// Observe implements Detector.
func (d *UnusualIP) Observe(c *Context) {
	e := c.Event
	if d.pairs == nil {
		d.pairs = map[vp]*netProfile{}
	}
	if !e.IP.IsValid() || e.Caller.Principal() == "" || e.Result.Outcome != event.OutcomeSuccess {
		return
	}
	nw := c.Net
	tenantFirst := c.NetSince
	kind := "internet"
	switch {
	case c.IP.Private:
		kind = "private"
	case c.IP.Cloud != "":
		kind = "cloud:" + c.IP.Cloud
	}
	key := vp{e.Vault.ID, c.Principal}
	p := d.lastPair.get(d.pairs, key, 1<<21, func() *netProfile { return &netProfile{} })
	known, kindKnown := p.knows(nw), p.kinds&kindBit(kind) != 0
	person := e.Caller.Type == event.IdentityUser
	if pd := p.pending; pd != nil {
		switch {
		case e.Time.Sub(pd.prior.End) > concurrentWindow:
			p.pending = nil // the old networks fell silent: a move, or a trip
		case nw == pd.prior.Net:
			if telling(c) {
				p.pending = nil
				c.Raise(Finding{Type: alert.UnusualIP, Prior: &pd.prior,
					Explanation: fmt.Sprintf("%s called %s from %s (%s), a network it never used there and that nobody in the organisation had used, and from it %s %s %s, which it had never done there. %s",
						callerName(e), e.Vault.Name, pd.prior.IP, pd.label, doneWith(e), e.Object.Kind, e.Object.Name, callSummary(e))})
				return
			}
			pd.prior.record(e)
		case pd.byDeeds:
			// A person back on a known network (the VPN switched on
			// again, the trip over), an application's older instances
			// beside new ones in its own cloud: no sign. Only what is
			// done from the new network is.
		case known:
			p.pending = nil
			c.Raise(Finding{Type: alert.UnusualIP, Prior: &pd.prior,
				Explanation: fmt.Sprintf("%s called %s %d times from %s (%s), a network it never used there and that nobody in the organisation had used, and %s later from its own network %s: two places at once.",
					callerName(e), e.Vault.Name, pd.prior.Count, pd.prior.IP, pd.label, human(e.Time.Sub(pd.prior.Start)), e.IP)})
			return
		}
	}
	if !known && len(p.nets) < maxNetsPerPair {
		p.nets = append(p.nets, nw)
	}
	p.kinds |= kindBit(kind)
	if known || len(p.nets) >= maxNetsPerPair || !c.VaultLearned() || e.Time.Sub(c.SinceOnVault) < principalLearning(c) {
		return
	}
	if e.Time.Sub(tenantFirst) > time.Hour {
		return // a network the organisation already uses
	}
	// Another address of its own cloud or private range is a move or a
	// scale-out when the application reads what it always read.
	sameCloud := kindKnown && kind != "internet"
	label := kind
	if kind == "internet" {
		label = "an internet address"
	}
	if telling(c) {
		c.Raise(Finding{Type: alert.UnusualIP,
			Explanation: fmt.Sprintf("%s called %s from %s (%s), a network it never used there in %s and that nobody in the organisation had used before, and %s %s %s, which it had never done there. %s",
				callerName(e), e.Vault.Name, e.IP, label, human(e.Time.Sub(c.SinceOnVault)), doneWith(e), e.Object.Kind, e.Object.Name, callSummary(e))})
		return
	}
	// Watch the new network. A person's newest one is watched (the last
	// trip's hotel is no longer where they are); an application's first,
	// unless a network of another kind comes, which says more.
	byDeeds := person || sameCloud
	if p.pending == nil || person || (p.pending.byDeeds && !byDeeds) {
		p.pending = &pendingNet{label: label, byDeeds: byDeeds, prior: Prior{Start: e.Time, IP: e.IP, IPClass: c.IP, Net: nw}}
		p.pending.prior.record(e)
	}
}

// telling reports whether a call from a new network says more than that
// the caller is somewhere else: a read of an object it never read on the
// vault, or a backup, delete, purge, restore or recovery. A trip (a hotel,
// a phone's hotspot, a conference) or an application's move looks like a
// new network too, but the traveller and the moved application read what
// they always read.
func telling(c *Context) bool {
	switch c.Event.Operation.Class {
	case event.ClassRead, event.ClassCrypto:
		return c.Event.Object.Name != "" && !c.ReadBefore()
	case event.ClassBackup, event.ClassDelete, event.ClassPurge, event.ClassRestore, event.ClassRecover:
		return true
	}
	return false
}

// doneWith says what a call did to its object, for explanations.
func doneWith(e *event.Event) string {
	switch e.Operation.Class {
	case event.ClassRead:
		return "read"
	case event.ClassCrypto:
		return "used"
	case event.ClassBackup:
		return "backed up"
	case event.ClassDelete:
		return "deleted"
	case event.ClassPurge:
		return "purged"
	case event.ClassRestore:
		return "restored"
	case event.ClassRecover:
		return "recovered"
	}
	return string(e.Operation.Class)
}
