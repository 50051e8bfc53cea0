package detect

import (
	"fmt"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// Newcomers raises unusual-application when, on a vault that has been
// learned, an application that never called it before reads or lists its
// secrets.
//
// Two kinds of newcomer are expected and stay quiet: an application seen
// for the first time anywhere (newly registered), and one that appears
// after someone else changed the vault's access policy in the week before
// (a deployment the admin granted). A known application turning up on a
// vault it never used is the stolen-credential pattern this looks for.
//
// The same rule for people (unusual-user) raised too many false alarms on
// simulated organisations, where people browse their colleagues' vaults:
// it is not enabled until it learns teams.
type Newcomers struct {
	grants map[string]grant // vault -> last access-policy change
}

type grant struct {
	t   time.Time
	who string
}

// grantMemory is how long a policy change explains a new application.
const grantMemory = 7 * 24 * time.Hour

// Types implements Detector.
func (*Newcomers) Types() []alert.Type {
	return []alert.Type{alert.UnusualApplication}
}

// Observe implements Detector.
func (d *Newcomers) Observe(c *Context) {
	e := c.Event
	if d.grants == nil {
		d.grants = map[string]grant{}
	}
	if e.Caller.Principal() == "" {
		return
	}
	firstAnywhere, firstHere := c.Since, c.SinceOnVault
	if e.Result.Outcome != event.OutcomeSuccess {
		return
	}
	if e.Operation.Class == event.ClassPolicyChange {
		if len(d.grants) < 1<<20 {
			d.grants[e.Vault.ID] = grant{e.Time, c.Principal}
		}
		return
	}
	if e.Operation.Class != event.ClassRead && e.Operation.Class != event.ClassList {
		return
	}
	if !c.VaultLearned() || firstHere.Before(e.Time.Add(-time.Hour)) {
		return // a learned vault's known caller (an hour's grace covers its first burst)
	}
	if e.Time.Sub(firstAnywhere) < 24*time.Hour {
		return // seen for the first time anywhere: a newcomer to the organisation
	}
	switch e.Caller.Type {
	case event.IdentityServicePrincipal, event.IdentityManagedIdentity:
	default:
		return
	}
	if g, ok := d.grants[e.Vault.ID]; ok && g.who != c.Principal && e.Time.Sub(g.t) < grantMemory {
		return // deployed after someone granted access
	}
	c.Raise(Finding{Type: alert.UnusualApplication,
		Explanation: fmt.Sprintf("The application %s has never used %s in the %s it has been watched, though it has been calling other vaults for %s. %s",
			callerName(e), e.Vault.Name, human(e.Time.Sub(c.VaultSince)), human(e.Time.Sub(firstAnywhere)), callSummary(e))})
}

// OperationPattern raises unusual-operation-pattern when a principal known
// on a vault does a kind of operation there that it never did before:
// backup, delete, purge, restore, recover, or (for an application) listing.
// People browse and list; applications read what they were built to read.
type OperationPattern struct {
	classes *firstSeen[vpc] // first call of each class
}

type vpc struct {
	vault, principal string
	class            event.Class
}

// Types implements Detector.
func (*OperationPattern) Types() []alert.Type { return []alert.Type{alert.UnusualOperationPattern} }

// Observe implements Detector.
func (d *OperationPattern) Observe(c *Context) {
	e := c.Event
	if d.classes == nil {
		d.classes = newFirstSeen[vpc](1 << 21)
	}
	if e.Caller.Principal() == "" || e.Result.Outcome != event.OutcomeSuccess {
		return
	}
	since := c.SinceOnVault
	first := d.classes.see(vpc{e.Vault.ID, c.Principal, e.Operation.Class}, e.Time)
	switch e.Operation.Class {
	case event.ClassBackup, event.ClassDelete, event.ClassPurge, event.ClassRestore, event.ClassRecover:
	case event.ClassList:
		if e.Caller.Type == event.IdentityUser {
			return
		}
	default:
		return
	}
	if !c.VaultLearned() || e.Time.Sub(since) < c.Config.LearningPeriod || first.Before(e.Time.Add(-time.Hour)) {
		return // not learned yet, or a class it has used before
	}
	c.Raise(Finding{Type: alert.UnusualOperationPattern,
		Explanation: fmt.Sprintf("%s has called %s for %s and never did a %s there before. %s",
			callerName(e), e.Vault.Name, human(e.Time.Sub(since)), e.Operation.Class, callSummary(e))})
}
