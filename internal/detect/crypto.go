package detect

import (
	"fmt"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// CryptoVolume raises crypto-volume when a principal uses a key for an
// operation it had never used that key for before (after the vault's
// learning period), in a burst: bulk decryption of data it never handled,
// or decrypting with a key it only ever signed with. What a principal does
// with a key routinely, however heavily (storage encryption unwraps all
// day), is learned and stays quiet. A principal first seen anywhere in the
// day before it used the key (a newly deployed application: every key is
// new to it, and its first day's volume is its normal) needs ten times the
// burst: bulk decryption by a brand-new identity still shows.
type CryptoVolume struct {
	// Calls within Window make a burst (defaults 50 and 1 hour).
	Calls  int
	Window time.Duration
	pairs  *firstSeen[vpo]
	w      *burst[vpo]
}

// Types implements Detector.
func (*CryptoVolume) Types() []alert.Type { return []alert.Type{alert.CryptoVolume} }

// Observe implements Detector.
func (d *CryptoVolume) Observe(c *Context) {
	e := c.Event
	if e.Operation.Class != event.ClassCrypto || e.Result.Outcome != event.OutcomeSuccess || e.Object.Name == "" {
		return
	}
	if d.pairs == nil {
		if d.Calls <= 0 {
			d.Calls = 50
		}
		if d.Window <= 0 {
			d.Window = time.Hour
		}
		d.pairs = newFirstSeen[vpo](1 << 20)
		d.w = newBurst[vpo](d.Calls, d.Window)
	}
	key := vpo{e.Vault.ID, c.Principal, e.Object.Kind, e.Object.Name, e.Operation.Name}
	first := d.pairs.see(key, e.Time)
	if !c.VaultLearned() || first.Before(c.VaultSince.Add(c.Config.LearningPeriod)) {
		return // a key the principal used while the vault was learned
	}
	if e.Time.Sub(first) > 24*time.Hour {
		return // new to it more than a day ago: it is its key now
	}
	hits, _ := d.w.hit(key, e.Time, "")
	need := d.Calls
	newcomer := first.Sub(c.Since) < 24*time.Hour
	if newcomer {
		need *= 10
	}
	if hits < need {
		return
	}
	c.Raise(Finding{Type: alert.CryptoVolume,
		Explanation: fmt.Sprintf("%s made %d %s calls with key %s of %s within %s; it first used this key for %s %s ago, after %s in which it never did.%s",
			callerName(e), hits, e.Operation.Name, e.Object.Name, e.Vault.Name, human(d.Window), e.Operation.Name, human(e.Time.Sub(first)), human(first.Sub(c.VaultSince)), newcomerNote(newcomer, c.Since)),
		Facts: []alert.Fact{{Name: "calls_in_window", Value: float64(hits)}}})
}

// newcomerNote says, for a principal first seen shortly before, when: its
// bar was higher.
func newcomerNote(newcomer bool, since time.Time) string {
	if !newcomer {
		return ""
	}
	return fmt.Sprintf(" It was first seen anywhere at %s, and even for a new identity this is far more than a first day's use.", since.UTC().Format(time.RFC3339))
}
