package detect

import (
	"fmt"
	"strings"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// ThreatIntel raises tor-access for any call from a Tor exit node, and
// suspicious-ip-access / suspicious-ip-denied for calls from an address on
// a reputation list (Tor aside). They fire at once: no baseline needed.
type ThreatIntel struct{}

// Types implements Detector.
func (ThreatIntel) Types() []alert.Type {
	return []alert.Type{alert.TorAccess, alert.SuspiciousIPAccess, alert.SuspiciousIPDenied}
}

// Observe implements Detector.
func (ThreatIntel) Observe(c *Context) {
	e := c.Event
	if !e.IP.IsValid() {
		return
	}
	switch {
	case c.IP.Tor:
		c.Raise(Finding{Type: alert.TorAccess, Key: "ip:" + e.IP.String(),
			Explanation: fmt.Sprintf("%s is a Tor exit node: the caller hides where it is. %s", e.IP, callSummary(e))})
	case len(c.IP.Lists) > 0:
		t := alert.SuspiciousIPAccess
		if e.Result.Outcome != event.OutcomeSuccess {
			t = alert.SuspiciousIPDenied
		}
		c.Raise(Finding{Type: t, Key: "ip:" + e.IP.String(),
			Explanation: fmt.Sprintf("%s is on the reputation list(s) %s. %s", e.IP, strings.Join(c.IP.Lists, ", "), callSummary(e))})
	}
}

// callSummary describes the call in one sentence.
func callSummary(e *event.Event) string {
	who := callerName(e)
	what := e.Operation.Name
	if e.Object.Name != "" {
		what += " " + string(e.Object.Kind) + " " + e.Object.Name
	}
	return fmt.Sprintf("%s called %s on %s (%s).", who, what, e.Vault.Name, e.Result.Outcome)
}

// callerName is the most readable name of the caller.
func callerName(e *event.Event) string {
	c := &e.Caller
	for _, s := range []string{c.UPN, c.PrincipalEmail, c.DisplayName, c.ARN, c.AppID, c.ObjectID, c.VaultEntityID} {
		if s != "" {
			return s
		}
	}
	if c.Type == event.IdentityAnonymous || c.Type == "" {
		return "An anonymous caller"
	}
	return "A caller"
}
