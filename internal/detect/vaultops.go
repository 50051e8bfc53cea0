package detect

import (
	"fmt"
	"strings"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/event"
)

// AuditTampering raises audit-tampering when what a provider records about
// a vault is changed, whoever does it: an attacker's first move is to stop
// the record of what follows. The decoders mark such changes with the class
// audit-config: a Vault/OpenBao audit device enabled, disabled or changed, a
// CloudTrail trail or event data store stopped, deleted or re-scoped, a Key
// Vault diagnostic setting written or deleted. Vault events saved before
// the class existed (a delete or write on sys/audit/<name>, class
// management) count too. A refused or failed attempt raises at medium
// severity; an unauthenticated call changed nothing and raises nothing.
type AuditTampering struct{}

// Types implements Detector.
func (AuditTampering) Types() []alert.Type { return []alert.Type{alert.AuditTampering} }

// Observe implements Detector.
func (AuditTampering) Observe(c *Context) {
	e := c.Event
	if e.Result.Outcome == event.OutcomeUnauthenticated {
		return
	}
	var explanation string
	if dev, did, try, ok := vaultAuditChange(e); ok {
		if e.Result.Outcome != event.OutcomeSuccess {
			did = "tried (" + string(e.Result.Outcome) + ") to " + try
		}
		explanation = fmt.Sprintf("%s %s the audit device %q: calls after this may not be recorded by it.", callerName(e), did, dev)
	} else if e.Operation.Class == event.ClassAuditConfig {
		explanation = auditConfigExplanation(e)
	} else {
		return
	}
	sev := alert.Severity("")
	if e.Result.Outcome != event.OutcomeSuccess {
		sev = alert.SeverityMedium
	}
	c.Raise(Finding{Type: alert.AuditTampering, Severity: sev, Explanation: explanation})
}

// vaultAuditChange reports whether e enables, disables or changes a
// Vault/OpenBao audit device (sys/audit/<name>), with the device and what
// was done, in the past and as an attempt.
func vaultAuditChange(e *event.Event) (device, did, try string, ok bool) {
	if e.Provider != event.ProviderHashiCorpVault {
		return "", "", "", false
	}
	device, ok = strings.CutPrefix(objectPath(e), "sys/audit/")
	if !ok {
		return "", "", "", false
	}
	switch e.Operation.Name {
	case "delete":
		return device, "disabled", "disable", true
	case "create", "update", "patch":
		return device, "enabled or changed", "enable or change", true
	}
	return "", "", "", false
}

// auditConfigExplanation explains an audit-config event of a provider
// other than Vault from what its decoder says: Operation.Detail, a verb
// phrase for what a successful call did ("stopped CloudTrail logging of
// the trail"), optionally followed by ": " and what it left ("AuditEvent
// logs no longer exported by it"); the object names the trail, event data
// store or diagnostic setting.
func auditConfigExplanation(e *event.Event) string {
	obj := ""
	if e.Object.Name != "" {
		obj = fmt.Sprintf(" %q", e.Object.Name)
	}
	where := " of " + e.Vault.Name
	if e.Provider == event.ProviderAWSSecretsManager || e.Provider == event.ProviderAWSKMS {
		where = " in " + e.Vault.Name // the account and region
	}
	switch {
	case e.Result.Outcome != event.OutcomeSuccess:
		return fmt.Sprintf("%s tried (%s) %s on%s%s, a call that changes what is logged about the vault's secrets: it did not take effect, but whoever tried may try again with another credential.",
			callerName(e), e.Result.Outcome, e.Operation.Name, obj, where)
	case e.Operation.Detail == "":
		return fmt.Sprintf("%s called %s on%s%s, a call that changes what is logged about the vault's secrets: secret reads and other calls after this may not be recorded.",
			callerName(e), e.Operation.Name, obj, where)
	}
	did, left, _ := strings.Cut(e.Operation.Detail, ": ")
	if left != "" {
		left = " (" + left + ")"
	}
	return fmt.Sprintf("%s %s%s%s%s: secret reads and other calls after this may not be recorded.",
		callerName(e), did, obj, where, left)
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
