package detect

import (
	"fmt"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// UserAppPair raises unusual-user-app-pair when a person known on a vault
// calls it through a client application (an Entra app id: the portal, the
// CLI, an IDE, a script's registration) that they never used there and that
// nobody has used on that vault before: their token in a tool that is not
// theirs. Moving between the clients people use on the vault stays quiet.
type UserAppPair struct {
	pairs *firstSeen[vpo] // vault, person, app -> first call
	apps  *firstSeen[vp]  // vault, app -> first call by a person
	users *firstSeen[vp]  // person, app -> first call on any vault
}

// userAppLearning is how long a person must have used a vault before a new
// client of theirs there is unusual: a person's clients are few and show in
// their first day (the vault itself is learned for the full period).
const userAppLearning = 24 * time.Hour

// Types implements Detector.
func (*UserAppPair) Types() []alert.Type { return []alert.Type{alert.UnusualUserAppPair} }

// Observe implements Detector.
func (d *UserAppPair) Observe(c *Context) {
	e := c.Event
	if e.Caller.Type != event.IdentityUser || e.Caller.AppID == "" || e.Result.Outcome != event.OutcomeSuccess {
		return
	}
	if d.pairs == nil {
		d.pairs = newFirstSeen[vpo](1 << 21)
		d.apps = newFirstSeen[vp](1 << 20)
		d.users = newFirstSeen[vp](1 << 20)
	}
	pairFirst := d.pairs.see(vpo{vault: e.Vault.ID, principal: c.Principal, object: e.Caller.AppID}, e.Time)
	appFirst := d.apps.see(vp{e.Vault.ID, e.Caller.AppID}, e.Time)
	userFirst := d.users.see(vp{c.Principal, e.Caller.AppID}, e.Time)
	if !c.VaultLearned() || e.Time.Sub(c.SinceOnVault) < userAppLearning {
		return
	}
	if e.Time.Sub(pairFirst) > time.Hour || e.Time.Sub(appFirst) > time.Hour && e.Time.Sub(userFirst) > time.Hour {
		return // a client it uses here, or one it uses elsewhere that people use on this vault
	}
	c.Raise(Finding{Type: alert.UnusualUserAppPair,
		Explanation: fmt.Sprintf("%s has used %s for %s, never through the client application %s, which nobody has used on this vault before. %s",
			callerName(e), e.Vault.Name, human(e.Time.Sub(c.SinceOnVault)), e.Caller.AppID, callSummary(e))})
}
