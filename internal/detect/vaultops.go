package detect

import (
	"fmt"
	"strings"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// AuditTampering raises audit-tampering when a Vault/OpenBao audit device
// is disabled or changed (a delete or write on sys/audit/<name>), whoever
// does it: an attacker's first move is to stop the record of what follows.
type AuditTampering struct{}

// Types implements Detector.
func (AuditTampering) Types() []alert.Type { return []alert.Type{alert.AuditTampering} }

// Observe implements Detector.
func (AuditTampering) Observe(c *Context) {
	e := c.Event
	if e.Provider != event.ProviderHashiCorpVault || e.Result.Outcome == event.OutcomeUnauthenticated {
		return
	}
	name, ok := strings.CutPrefix(objectPath(e), "sys/audit/")
	if !ok {
		return
	}
	var did, try string
	switch e.Operation.Name {
	case "delete":
		did, try = "disabled", "disable"
	case "create", "update", "patch":
		did, try = "enabled or changed", "enable or change"
	default:
		return
	}
	sev := alert.Severity("")
	if e.Result.Outcome != event.OutcomeSuccess {
		sev = alert.SeverityMedium
		did = "tried (" + string(e.Result.Outcome) + ") to " + try
	}
	c.Raise(Finding{Type: alert.AuditTampering, Severity: sev,
		Explanation: fmt.Sprintf("%s %s the audit device %q: calls after this may not be recorded by it.", callerName(e), did, name)})
}

// objectPath is the Vault path of the call: the object name of a path
// object (sys paths are written whole).
func objectPath(e *event.Event) string {
	if e.Object.Kind == event.KindPath {
		return e.Object.Name
	}
	return ""
}

// PrivilegedToken raises privileged-token-use for any call with a Vault
// root token or the AWS account root user, and for any generate-root call.
type PrivilegedToken struct{}

// Types implements Detector.
func (PrivilegedToken) Types() []alert.Type { return []alert.Type{alert.PrivilegedTokenUse} }

// Observe implements Detector.
func (PrivilegedToken) Observe(c *Context) {
	e := c.Event
	switch {
	case strings.HasPrefix(objectPath(e), "sys/generate-root"):
		c.Raise(Finding{Type: alert.PrivilegedTokenUse, Key: "generate-root",
			Explanation: fmt.Sprintf("%s called %s on %s: generating a root token gives unlimited access to every secret and setting.",
				callerName(e), objectPath(e), e.Vault.Name)})
	case e.Caller.Privileged && e.Result.Outcome == event.OutcomeSuccess:
		what := "a Vault root token"
		if e.Provider == event.ProviderAWSSecretsManager || e.Provider == event.ProviderAWSKMS {
			what = "the AWS account root user"
		}
		c.Raise(Finding{Type: alert.PrivilegedTokenUse,
			Explanation: fmt.Sprintf("A call used %s: %s Root credentials should be kept for break-glass use.", what, callSummary(e))})
	}
}
