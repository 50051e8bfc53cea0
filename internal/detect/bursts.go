package detect

import (
	"fmt"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// DestructiveBurst raises destructive-burst when one caller deletes or
// purges many distinct objects of a vault within minutes.
type DestructiveBurst struct {
	// Objects within Window make a burst (defaults 5 and 10 minutes).
	Objects int
	Window  time.Duration
	w       *burst[vp]
}

// Types implements Detector.
func (*DestructiveBurst) Types() []alert.Type { return []alert.Type{alert.DestructiveBurst} }

// Observe implements Detector.
func (d *DestructiveBurst) Observe(c *Context) {
	e := c.Event
	if e.Operation.Class != event.ClassDelete && e.Operation.Class != event.ClassPurge {
		return
	}
	if e.Result.Outcome != event.OutcomeSuccess && e.Result.Outcome != event.OutcomeDenied {
		return
	}
	if d.w == nil {
		if d.Objects <= 0 {
			d.Objects = 5
		}
		if d.Window <= 0 {
			d.Window = 10 * time.Minute
		}
		d.w = newBurst[vp](4*d.Objects, d.Window)
	}
	_, distinct := d.w.hit(vp{e.Vault.ID, c.Principal}, e.Time, e.Object.Key())
	if distinct >= d.Objects {
		c.Raise(Finding{Type: alert.DestructiveBurst,
			Explanation: fmt.Sprintf("%s deleted or purged %d distinct objects of %s within %s.", callerName(e), distinct, e.Vault.Name, human(d.Window)),
			Facts:       []alert.Fact{{Name: "distinct_objects", Value: float64(distinct)}, {Name: "window_minutes", Value: d.Window.Minutes()}}})
	}
}

// CredentialProbing raises credential-probing when one address makes a
// burst of unauthenticated calls or failed logins.
type CredentialProbing struct {
	// Calls within Window make a burst (defaults 10 and 10 minutes).
	Calls  int
	Window time.Duration
	w      *burst[string]
}

// Types implements Detector.
func (*CredentialProbing) Types() []alert.Type { return []alert.Type{alert.CredentialProbing} }

// Observe implements Detector.
func (d *CredentialProbing) Observe(c *Context) {
	e := c.Event
	failedLogin := e.Operation.Class == event.ClassAuth && e.Result.Outcome == event.OutcomeDenied
	if e.Result.Outcome != event.OutcomeUnauthenticated && !failedLogin {
		return
	}
	src := ipString(e)
	if src == "" {
		return
	}
	if d.w == nil {
		if d.Calls <= 0 {
			d.Calls = 10
		}
		if d.Window <= 0 {
			d.Window = 10 * time.Minute
		}
		d.w = newBurst[string](d.Calls, d.Window)
	}
	hits, _ := d.w.hit(src, e.Time, "")
	if hits >= d.Calls {
		c.Raise(Finding{Type: alert.CredentialProbing, Key: "ip:" + src,
			Explanation: fmt.Sprintf("%s made %d unauthenticated calls or failed logins to %s within %s.", src, hits, e.Vault.Name, human(d.Window)),
			Facts:       []alert.Fact{{Name: "calls", Value: float64(hits)}}})
	}
}
