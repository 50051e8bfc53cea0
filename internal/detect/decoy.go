package detect

import (
	"fmt"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// Decoy raises decoy-secret-access for any read (or listing of versions,
// backup, or decrypt) of an object declared as a decoy: nobody
// legitimately touches one, so there is no baseline to wait for.
type Decoy struct{}

// Types implements Detector.
func (Decoy) Types() []alert.Type { return []alert.Type{alert.DecoySecretAccess} }

// Observe implements Detector.
func (Decoy) Observe(c *Context) {
	e := c.Event
	switch e.Operation.Class {
	case event.ClassRead, event.ClassBackup, event.ClassCrypto, event.ClassList:
	default:
		return
	}
	if !c.Config.Decoys.Match(e.Vault.Name, e.Object.Name) {
		return
	}
	c.Raise(Finding{Type: alert.DecoySecretAccess,
		Explanation: fmt.Sprintf("%s is a decoy: no application or person uses it, so any read means someone is looking through the vault. %s",
			e.Object.Name, callSummary(e))})
}
