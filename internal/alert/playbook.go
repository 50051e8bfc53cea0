package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Step titles: the four steps every playbook has, in this order.
const (
	StepIdentify = "Identify the source"
	StepRespond  = "Respond"
	StepMeasure  = "Measure the impact"
	StepRotate   = "Rotate what was touched"
)

// Provider names as alerts carry them in Vault.Provider (the event
// package's provider names).
const (
	providerAzure = "azure-keyvault"
	providerVault = "hashicorp-vault"
	providerSM    = "aws-secretsmanager"
	providerKMS   = "aws-kms"
	providerGCP   = "gcp-secretmanager"
)

// lookback is how far before the alert step 3 searches: the caller may have
// been active before the burst that raised the alert.
const lookback = 7 * 24 * time.Hour

// maxOtherVaults bounds the vaults of a cross-vault alert that get their own
// commands; the rest are named.
const maxOtherVaults = 3

// Playbook returns the four response steps for a: identify the source,
// respond, measure the impact, rotate what was touched. They are filled in
// with the alert's entities, vault and objects, and carry the provider's
// real commands, ready to copy: every value taken from the alert is
// shell-quoted; what the alert cannot know (a workspace id, the plaintext
// of an HMAC-ed accessor, a new secret value) is an environment variable
// or a file the responder fills ("$WORKSPACE_ID", new-value.txt). No
// command ever carries a secret value.
//
// Cross-vault alerts get commands for their main vault and for the first
// vault of each other provider (up to three more); the remaining vaults are
// named. A command appears once.
func Playbook(a *Alert) []Step {
	steps := []Step{{Title: StepIdentify}, {Title: StepRespond}, {Title: StepMeasure}, {Title: StepRotate}}
	who := describeWho(a)
	steps[0].Text = identifyLead(a, who)
	steps[1].Text = respondLead(a, who)
	steps[2].Text = fmt.Sprintf("Find everything %s did, from %s (a week before the alert) until now, on this vault and the others it can reach, and who else came from the same address.", orSomeone(who), stamp(a.StartTime.Add(-lookback)))
	steps[3].Text = rotateLead(a)

	books := []book{newBook(a, a.Vault)}
	seen := map[string]bool{a.Vault.Provider: true}
	var others []string
	for _, v := range a.Vaults {
		if v.ID == a.Vault.ID && v.Provider == a.Vault.Provider {
			continue
		}
		if !seen[v.Provider] && len(books) <= maxOtherVaults {
			seen[v.Provider] = true
			books = append(books, newBook(a, v))
			continue
		}
		others = append(others, vaultLabel(v))
	}
	have := map[string]bool{}
	for i, b := range books {
		steps[0].Commands = appendNew(have, steps[0].Commands, b.identify())
		steps[1].Commands = appendNew(have, steps[1].Commands, b.respond())
		steps[2].Commands = appendNew(have, steps[2].Commands, b.measure())
		if i == 0 {
			// Evidence objects belong to the alert's main vault.
			steps[3].Commands = appendNew(have, steps[3].Commands, b.rotate())
		}
		for j, n := range b.notes() {
			if n != "" {
				steps[j].Text += " " + n
			}
		}
	}
	steps[3].Text += objectList(a)
	if len(others) > 0 {
		list := strings.Join(others, ", ")
		steps[1].Text += " Repeat the vault's commands for the other vaults involved: " + list + "."
		steps[2].Text += " The other vaults involved: " + list + "."
	}
	return steps
}

// appendNew appends to l the commands not in have, and adds them to have:
// a command appears once in a playbook.
func appendNew(have map[string]bool, l, cmds []string) []string {
	for _, c := range cmds {
		if !have[c] {
			have[c] = true
			l = append(l, c)
		}
	}
	return l
}

// who is what the alert knows of the caller, by kind.
type who struct {
	ips, oids, upns, apps, names, entities, accessors, arns, emails []string
}

func describeWho(a *Alert) who {
	e := &a.Entities
	w := who{oids: e.ObjectIDs, upns: e.UPNs, apps: e.AppIDs, names: e.DisplayNames, entities: e.VaultEntities, accessors: e.TokenAccessors, arns: e.ARNs, emails: e.Principals}
	for _, ip := range e.IPs {
		w.ips = append(w.ips, ip.Address)
	}
	return w
}

// String names the caller for prose: its most readable identifiers.
func (w who) String() string {
	var parts []string
	add := func(label string, l []string) {
		if len(l) > 0 {
			parts = append(parts, label+" "+clean(strings.Join(l, ", ")))
		}
	}
	add("user", w.upns)
	add("principal", w.emails)
	add("ARN", w.arns)
	add("app", w.apps)
	if len(w.upns) == 0 {
		add("object id", w.oids)
	}
	add("Vault entity", w.entities)
	if len(w.entities) == 0 {
		add("token accessor (HMAC)", w.accessors)
	}
	add("named", w.names)
	add("from", w.ips)
	return strings.Join(parts, ", ")
}

func orSomeone(w who) string {
	if s := w.String(); s != "" {
		return "the caller (" + s + ")"
	}
	return "the caller"
}

func identifyLead(a *Alert, w who) string {
	var s string
	switch a.Type {
	case TorAccess:
		s = "The caller reached the vault through Tor, so the address says nothing about who it is: the credential it used does. Find which credential that is and who owns it."
	case SuspiciousIPAccess, SuspiciousIPDenied:
		s = "The address is on a threat-intelligence list. Find which credential was used from it and who owns that credential."
	case UnusualIP:
		s = "Ask the owner of the credential whether they use this network; a cloud-provider address may still be the attacker's own machine."
	case AuditTampering:
		s = "Find who changed the audit configuration and restore it first: until then the vault is blind."
	case PrivilegedTokenUse:
		s = "Find who holds the root credential and why it exists now; there should be none outside an emergency."
	case DestructiveBurst:
		s = "Find who is deleting and stop them before the soft-deleted copies are purged."
	case DecoySecretAccess:
		s = "No application reads a decoy: whoever did is exploring the vault. Find the credential used and treat it as compromised."
	case CredentialProbing:
		s = "The calls were unauthenticated: the address is all there is. Find what else it reached."
	case CrossProviderAccess:
		s = "One address read secrets in several providers: find the credential used in each."
	default:
		s = "Find the credential that was used and who owns it; ask the owner whether this was them."
	}
	if d := w.String(); d != "" {
		s += " Caller: " + d + "."
	}
	if a.EndTime.After(a.StartTime) {
		return s + fmt.Sprintf(" Window: %s to %s on %s.", stamp(a.StartTime), stamp(a.EndTime), vaultLabel(a.Vault))
	}
	return s + fmt.Sprintf(" At %s on %s.", stamp(a.StartTime), vaultLabel(a.Vault))
}

func respondLead(a *Alert, w who) string {
	switch a.Type {
	case AuditTampering:
		return "Re-enable the audit device or logging, then revoke the credential that changed it unless the change was planned."
	case DestructiveBurst:
		return "Revoke the deleting credential, protect the soft-deleted objects from purging, and recover them."
	case PrivilegedTokenUse:
		return "Revoke the root token and cancel any root generation in progress; issue scoped tokens for the work that needed it."
	case CredentialProbing, SuspiciousIPDenied:
		return "Block the address at the network edge; nothing was read, so no credential needs revoking unless step 3 finds successful calls."
	}
	if len(w.upns)+len(w.oids)+len(w.apps)+len(w.entities)+len(w.accessors)+len(w.arns)+len(w.emails) == 0 {
		return "Block the address; no credential is named in the alert."
	}
	return "Unless the owner confirms the access, revoke the credential's access to the vault and disable or reset the credential itself. Revoking breaks whatever legitimately uses it: plan the new credential at the same time."
}

// rotatable reports whether the alert touched a secret, key or
// certificate (not only paths).
func rotatable(a *Alert) bool {
	for _, o := range a.Evidence.Objects {
		switch o.Kind {
		case "secret", "key", "certificate":
			return true
		}
	}
	return false
}

func rotateLead(a *Alert) string {
	if !rotatable(a) {
		return "No secret, key or certificate was touched in the alert's window; rotate whatever step 3 finds."
	}
	var b strings.Builder
	switch a.Type {
	case DestructiveBurst:
		b.WriteString("Recover what was deleted, then rotate anything the caller could have read first.")
	case DecoySecretAccess:
		b.WriteString("The decoy itself needs no rotation; every real secret the caller touched does.")
	default:
		b.WriteString("Every value the caller touched must be treated as known to the attacker: rotate it and give the new value to the applications that normally read it.")
	}
	b.WriteString(" Write each new value to new-value.txt (or new-value.json for Vault), never on the command line, and delete the file afterwards; disable the old version (OLD_VERSION) once every reader has the new one.")
	for _, o := range a.Evidence.Objects {
		if o.Kind == "key" {
			b.WriteString(" Keys cannot be read out of the vault: the caller could use them while it had access. Rotate a key it decrypted, unwrapped or signed with, and re-encrypt what the old version protected.")
			break
		}
	}
	return b.String()
}

// objectList lists the touched objects, one line each, with their calls
// and the identities that must receive the new value.
func objectList(a *Alert) string {
	var b strings.Builder
	for _, o := range a.Evidence.Objects {
		fmt.Fprintf(&b, "\n- %s %s: %d call(s) ", clean(o.Kind), clean(o.Name), o.Count)
		if o.First.Equal(o.Last) {
			b.WriteString("at " + stamp(o.First))
		} else {
			b.WriteString(stamp(o.First) + " to " + stamp(o.Last))
		}
		if ops := countSummary(o.Operations); ops != "" {
			b.WriteString(" (" + ops + ")")
		}
		switch {
		case len(o.NormalReaders) > 0:
			b.WriteString("; must receive the new value: " + clean(strings.Join(o.NormalReaders, ", ")))
		case o.Kind == "secret" || o.Kind == "key" || o.Kind == "certificate":
			b.WriteString("; no identity normally reads it")
		}
	}
	return b.String()
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format(time.RFC3339)
}

func vaultLabel(v Vault) string {
	name := v.Name
	if name == "" {
		name = v.ID
	}
	if v.Provider == "" {
		return clean(name)
	}
	return clean(name + " (" + v.Provider + ")")
}

// book writes one provider's commands for one vault.
type book interface {
	identify() []string
	respond() []string
	measure() []string
	rotate() []string
	// notes are sentences added to each of the four steps, or "".
	notes() [4]string
}

func newBook(a *Alert, v Vault) book {
	w := describeWho(a)
	switch v.Provider {
	case providerAzure:
		return &azureBook{a: a, w: w, v: v}
	case providerVault:
		return newVaultBook(a, w, v)
	case providerSM, providerKMS:
		return newAWSBook(a, w, v)
	case providerGCP:
		return &gcpBook{a: a, w: w, v: v}
	}
	return genericBook{}
}

// genericBook is for a provider the playbook does not know: no commands.
type genericBook struct{}

func (genericBook) identify() []string { return nil }
func (genericBook) respond() []string  { return nil }
func (genericBook) measure() []string  { return nil }
func (genericBook) rotate() []string   { return nil }
func (genericBook) notes() [4]string {
	return [4]string{1: "This provider has no command templates yet: use its console."}
}

// deleted reports whether the object was deleted or purged in the window.
func deleted(o Object) bool {
	for op := range o.Operations {
		l := strings.ToLower(op)
		if strings.Contains(l, "delete") || strings.Contains(l, "purge") || strings.Contains(l, "destroy") {
			return true
		}
	}
	return false
}

// purged reports whether the object was purged (deleted for good) in the
// window.
func purged(o Object) bool {
	for op := range o.Operations {
		l := strings.ToLower(op)
		if strings.Contains(l, "purge") || strings.Contains(l, "destroy") {
			return true
		}
	}
	return false
}

// azureBook writes Azure CLI commands for an Azure key vault.
type azureBook struct {
	a *Alert
	w who
	v Vault
}

// name is the key vault's name.
func (b *azureBook) name() string {
	if b.v.Name != "" {
		return b.v.Name
	}
	return b.v.ID[strings.LastIndexByte(b.v.ID, '/')+1:]
}

// resourceID is a shell word expanding to the vault's resource id.
func (b *azureBook) resourceID() string {
	if strings.HasPrefix(b.v.ID, "/subscriptions/") {
		return shellQuote(b.v.ID)
	}
	return `"$(` + cmdf("az keyvault show --name %s --query id -o tsv", b.name()) + `)"`
}

// kqlCaller is a KQL predicate matching the caller in AZKVAuditLogs.
func (b *azureBook) kqlCaller() string {
	var or []string
	for _, ip := range b.w.ips {
		or = append(or, "CallerIpAddress == "+strLit(ip))
	}
	for _, l := range [][]string{b.w.oids, b.w.upns, b.w.apps} {
		for _, id := range l {
			or = append(or, "tostring(Identity) contains "+strLit(id))
		}
	}
	if len(or) == 0 {
		return ""
	}
	return "(" + strings.Join(or, " or ") + ")"
}

func (b *azureBook) kql(from, to string, vaultOnly bool) string {
	q := "AZKVAuditLogs | where TimeGenerated >= datetime(" + from + ")"
	if to != "" {
		q += " and TimeGenerated <= datetime(" + to + ")"
	}
	if vaultOnly {
		q += " | where _ResourceId endswith " + strLit("/vaults/"+strings.ToLower(b.name()))
	}
	if p := b.kqlCaller(); p != "" {
		q += " | where " + p
	}
	return q + " | summarize calls = count(), first = min(TimeGenerated), last = max(TimeGenerated) by _ResourceId, CallerIpAddress, OperationName, ResultSignature, Id"
}

// users are the UPNs; principals are object ids of non-users (service
// principals, managed identities) when no UPN is known.
func (b *azureBook) principals() []string {
	if len(b.w.upns) > 0 {
		return nil
	}
	if len(b.w.oids) > 0 {
		return b.w.oids
	}
	return b.w.apps
}

func (b *azureBook) identify() []string {
	var c []string
	for _, u := range b.w.upns {
		c = append(c, cmdf("az ad user show --id %s --query '{name:displayName, enabled:accountEnabled, id:id}'", u))
	}
	for _, p := range b.principals() {
		c = append(c, cmdf("az ad sp show --id %s --query '{name:displayName, appId:appId, type:servicePrincipalType}'", p))
	}
	c = append(c,
		cmdf("az keyvault show --name %s --query '{id:id, rbac:properties.enableRbacAuthorization, network:properties.networkAcls}'", b.name()),
		"az monitor activity-log list --resource-id "+b.resourceID()+cmdf(" --start-time %s --end-time %s --query '[].{time:eventTimestamp, operation:operationName.value, caller:caller, status:status.value}' -o table", stamp(b.a.StartTime.Add(-lookback)), stamp(b.a.EndTime)),
		cmdf(`az monitor log-analytics query --workspace "$WORKSPACE_ID" --analytics-query %s -o table`, b.kql(stamp(b.a.StartTime), stamp(b.a.EndTime), true)),
	)
	return c
}

func (b *azureBook) respond() []string {
	var c []string
	n := b.name()
	switch b.a.Type {
	case AuditTampering:
		name := "vaultwatch-audit"
		if s := b.settings(); len(s) > 0 {
			name = s[0]
		}
		c = append(c,
			"az monitor diagnostic-settings list --resource "+b.resourceID(),
			cmdf("az monitor diagnostic-settings create --name %s --resource ", name)+b.resourceID()+` --workspace "$WORKSPACE_RESOURCE_ID" --logs '[{"category":"AuditEvent","enabled":true}]'`,
		)
	case DestructiveBurst:
		c = append(c, cmdf("az keyvault update --name %s --enable-purge-protection true", n))
	}
	for _, u := range b.w.upns {
		c = append(c,
			cmdf("az ad user update --id %s --account-enabled false", u),
			cmdf("az rest --method POST --url %s", "https://graph.microsoft.com/v1.0/users/"+u+"/revokeSignInSessions"),
		)
	}
	if len(b.w.upns) == 0 {
		for _, app := range b.w.apps {
			c = append(c,
				cmdf("az ad app credential list --id %s", app),
				cmdf(`az ad app credential delete --id %s --key-id "$KEY_ID"`, app),
			)
		}
	}
	for _, oid := range b.w.oids {
		c = append(c,
			cmdf("az keyvault delete-policy --name %s --object-id %s", n, oid),
			cmdf("az role assignment list --assignee %s --scope ", oid)+b.resourceID()+" -o table",
			cmdf("az role assignment delete --assignee %s --scope ", oid)+b.resourceID(),
		)
	}
	if len(b.w.ips) > 0 {
		c = append(c,
			cmdf(`az keyvault network-rule add --name %s --ip-address "$ALLOWED_CIDR"`, n),
			cmdf("az keyvault update --name %s --default-action Deny", n),
		)
	}
	return c
}

func (b *azureBook) notes() [4]string {
	id := "WORKSPACE_ID is the Log Analytics workspace (customer) id that receives the vault's AuditEvent logs, WORKSPACE_RESOURCE_ID its resource id; a vault whose diagnostics go to AzureDiagnostics (legacy mode) is queried there, with CallerIPAddress and id_s."
	var s []string
	if len(b.w.oids) > 0 {
		s = append(s, "delete-policy applies to vaults using access policies, role assignment delete to vaults using Azure RBAC (az keyvault show tells which).")
	}
	if len(b.w.upns) == 0 && len(b.w.apps) > 0 {
		s = append(s, "List the application's credentials, set KEY_ID to the one to remove (or reset them all with az ad sp credential reset); a managed identity has none: isolate the resource that runs it.")
	}
	if len(b.w.ips) > 0 {
		s = append(s, fmt.Sprintf("The Key Vault firewall only allows: to shut out %s, allow your own networks (ALLOWED_CIDR, once per range) and deny the rest; check every legitimate reader's range first.", clean(strings.Join(b.w.ips, ", "))))
	}
	var rot string
	for _, o := range b.a.Evidence.Objects {
		if o.Kind == "certificate" {
			rot = "A certificate is reissued with its own policy; its private key is new, so every reader must load the new certificate."
		}
	}
	if b.a.Type == AuditTampering {
		s = append(s, "The create line restores the setting under its name, sending AuditEvent to the workspace; add the storage account or event hub it also sent to (--storage-account, --event-hub-rule), as your configuration management has it. Calls made while the setting was gone were not logged and cannot be recovered.")
	}
	if b.a.Type == DestructiveBurst {
		s = append(s, "Purge protection cannot be turned off again: it is what keeps the remaining soft-deleted objects from being purged.")
		rot = "recover works while the object is soft-deleted; a purged object comes back only from a backup taken with az keyvault secret backup (NAME.backup below)."
	}
	if !rotatable(b.a) {
		rot = ""
	}
	return [4]string{id, strings.Join(s, " "), "", rot}
}

// settings are the diagnostic settings an audit-tampering alert's evidence
// names: path objects changed by diagnostic-setting operations.
func (b *azureBook) settings() []string {
	var out []string
	for _, o := range b.a.Evidence.Objects {
		if o.Kind != "path" {
			continue
		}
		for op := range o.Operations {
			if strings.HasPrefix(strings.ToUpper(op), "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/") {
				out = append(out, o.Name)
				break
			}
		}
	}
	return out
}

func (b *azureBook) measure() []string {
	c := []string{cmdf(`az monitor log-analytics query --workspace "$WORKSPACE_ID" --analytics-query %s -o table`, b.kql(stamp(b.a.StartTime.Add(-lookback)), "", false))}
	if b.a.Type == AuditTampering {
		c = append(c, "az monitor activity-log list --resource-id "+b.resourceID()+" --offset 7d --query '[].{time:eventTimestamp, operation:operationName.value, caller:caller, status:status.value}' -o table")
	}
	for _, u := range b.w.upns {
		c = append(c, cmdf("az monitor activity-log list --caller %s --start-time %s -o table", u, stamp(b.a.StartTime.Add(-lookback))))
	}
	return c
}

func (b *azureBook) rotate() []string {
	var c []string
	n := b.name()
	for _, o := range b.a.Evidence.Objects {
		if b.a.Type == DestructiveBurst && deleted(o) {
			switch o.Kind {
			case "secret", "key", "certificate":
				if purged(o) {
					c = append(c, cmdf("az keyvault "+o.Kind+" restore --vault-name %s --file %s", n, o.Name+".backup"))
				} else {
					c = append(c, cmdf("az keyvault "+o.Kind+" recover --vault-name %s --name %s", n, o.Name))
				}
			}
			continue
		}
		switch o.Kind {
		case "secret":
			c = append(c,
				cmdf("az keyvault secret set --vault-name %s --name %s --file new-value.txt", n, o.Name),
				cmdf(`az keyvault secret set-attributes --vault-name %s --name %s --version "$OLD_VERSION" --enabled false`, n, o.Name),
			)
		case "key":
			c = append(c, cmdf("az keyvault key rotate --vault-name %s --name %s", n, o.Name))
		case "certificate":
			c = append(c,
				cmdf("az keyvault certificate show --vault-name %s --name %s --query policy > policy.json", n, o.Name),
				cmdf("az keyvault certificate create --vault-name %s --name %s --policy @policy.json", n, o.Name),
			)
		}
	}
	return c
}

// vaultBook writes HashiCorp Vault / OpenBao CLI commands for a secrets
// mount ("vault:<namespace id>:<mount>/").
type vaultBook struct {
	a     *Alert
	w     who
	v     Vault
	mount string // without its trailing slash
	ns    string // namespace path, "" for root
}

func newVaultBook(a *Alert, w who, v Vault) *vaultBook {
	b := &vaultBook{a: a, w: w, v: v, mount: v.Name}
	if rest, ok := strings.CutPrefix(v.ID, "vault:"); ok {
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			b.mount = strings.TrimSuffix(rest[i+1:], "/")
		}
	}
	if ns, ok := strings.CutSuffix(v.Name, b.mount); ok && b.mount != "" {
		b.ns = strings.TrimSuffix(ns, "/")
	}
	return b
}

// nsFlag is " -namespace=NS" for a mount outside the root namespace.
func (b *vaultBook) nsFlag() string {
	if b.ns == "" {
		return ""
	}
	return " -namespace=" + shellQuote(b.ns)
}

// jqCaller is a jq predicate matching the caller's audit entries.
func (b *vaultBook) jqCaller() string {
	var or []string
	for _, a := range b.w.accessors {
		or = append(or, ".auth.accessor == "+strLit(a))
	}
	for _, e := range b.w.entities {
		or = append(or, ".auth.entity_id == "+strLit(e))
	}
	for _, ip := range b.w.ips {
		or = append(or, ".request.remote_address == "+strLit(ip))
	}
	if len(or) == 0 {
		return "true"
	}
	return strings.Join(or, " or ")
}

func (b *vaultBook) jq(from string) string {
	// Compare the first 19 characters: audit times carry fractions of a
	// second, which sort before "Z".
	return "select(.time[0:19] >= " + strLit(strings.TrimSuffix(from, "Z")) + ") | select(" + b.jqCaller() + ") | [.time, .type, .request.operation, .request.path, .request.remote_address, .auth.display_name] | @tsv"
}

func (b *vaultBook) identify() []string {
	c := []string{"vault audit list -detailed"}
	for _, e := range b.w.entities {
		c = append(c, "vault read"+b.nsFlag()+" "+shellQuote("identity/entity/id/"+e))
	}
	for _, acc := range b.w.accessors {
		c = append(c,
			"vault list"+b.nsFlag()+` -format=json auth/token/accessors | jq -r '.[]' | while read -r a; do if [ "$(vault write -field=hash "sys/audit-hash/$AUDIT_DEVICE" input="$a")" = `+shellQuote(acc)+` ]; then echo "$a"; fi; done`,
		)
	}
	if len(b.w.accessors) > 0 {
		c = append(c, "vault token lookup"+b.nsFlag()+` -accessor "$ACCESSOR"`)
	}
	c = append(c, cmdf(`jq -r %s "$AUDIT_LOG"`, b.jq(stamp(b.a.StartTime))))
	return c
}

func (b *vaultBook) notes() [4]string {
	var id string
	var s []string
	if len(b.w.accessors) > 0 {
		id = "AUDIT_LOG is the audit device's file. The audit log HMACs token accessors: set AUDIT_DEVICE to the device's path (vault audit list) and run the loop to find the plaintext ACCESSOR whose hash matches; the loop needs a token allowed to list accessors."
	} else {
		id = "AUDIT_LOG is the audit device's file (vault audit list -detailed)."
	}
	if len(b.w.ips) > 0 {
		s = append(s, "Vault has no address deny list: block "+clean(strings.Join(b.w.ips, ", "))+" at the load balancer or firewall, and bind roles to known networks (token_bound_cidrs, secret_id_bound_cidrs).")
	}
	if len(b.w.accessors)+len(b.w.entities) > 0 {
		s = append(s, "Read the policies the token lookup shows (POLICY) and narrow the one that allowed this.")
	}
	if b.a.Type == AuditTampering {
		s = append(s, "Re-enable each device with the type and options it had (a socket or syslog device takes its own; vault audit list -detailed on another cluster or your configuration management shows them).")
	}
	rot := "new-value.json holds the secret's fields as a JSON object; vault kv put writes a new version (KV v2) and vault kv metadata get shows the versions and their readers' current one."
	if b.a.Type == DestructiveBurst {
		rot = "Versions soft-deleted (kv delete) come back with vault kv undelete (VERSIONS from vault kv metadata get); destroyed versions and deleted metadata are gone: restore them from a snapshot."
	}
	if !rotatable(b.a) {
		rot = ""
	}
	return [4]string{id, strings.Join(s, " "), "", rot}
}

func (b *vaultBook) respond() []string {
	var c []string
	ns := b.nsFlag()
	switch b.a.Type {
	case AuditTampering:
		devices := 0
		for _, o := range b.a.Evidence.Objects {
			if dev, ok := strings.CutPrefix(o.Name, "sys/audit/"); ok && dev != "" {
				c = append(c, "vault audit enable -path="+shellQuote(dev)+` file file_path="$AUDIT_LOG"`)
				devices++
			}
		}
		if devices == 0 {
			c = append(c, `vault audit enable -path="$AUDIT_DEVICE" file file_path="$AUDIT_LOG"`)
		}
	case PrivilegedTokenUse:
		c = append(c, "vault operator generate-root -status", "vault operator generate-root -cancel")
	}
	if len(b.w.accessors) > 0 {
		c = append(c, "vault token revoke"+ns+` -accessor "$ACCESSOR"`)
	}
	for _, e := range b.w.entities {
		c = append(c, "vault write"+ns+" "+shellQuote("identity/entity/id/"+e)+" disabled=true")
	}
	for _, n := range b.w.names {
		if strings.HasPrefix(n, "approle") {
			c = append(c, "vault write"+ns+` "auth/approle/role/$ROLE/secret-id-accessor/destroy" secret_id_accessor="$SECRET_ID_ACCESSOR"`)
			break
		}
	}
	if len(b.w.accessors)+len(b.w.entities) > 0 {
		c = append(c, "vault policy read"+ns+` "$POLICY"`, "vault policy write"+ns+` "$POLICY" fixed-policy.hcl`)
	}
	return c
}

func (b *vaultBook) measure() []string {
	return []string{cmdf(`jq -r %s "$AUDIT_LOG"`, b.jq(stamp(b.a.StartTime.Add(-lookback))))}
}

func (b *vaultBook) rotate() []string {
	var c []string
	ns := b.nsFlag()
	mount := " -mount=" + shellQuote(b.mount)
	for _, o := range b.a.Evidence.Objects {
		switch o.Kind {
		case "secret":
			p := " " + shellQuote(o.Name)
			if b.a.Type == DestructiveBurst && deleted(o) {
				c = append(c,
					"vault kv metadata get"+ns+mount+p,
					"vault kv undelete"+ns+mount+` -versions="$VERSIONS"`+p,
				)
				continue
			}
			c = append(c,
				"vault kv metadata get"+ns+mount+p,
				"vault kv put"+ns+mount+p+" @new-value.json",
			)
		case "key":
			c = append(c, "vault write"+ns+" -f "+shellQuote(b.mount+"/keys/"+o.Name+"/rotate"))
		}
	}
	return c
}

// awsBook writes AWS CLI commands for an account and region ("aws:<account>:<region>",
// named "<account>/<region>").
type awsBook struct {
	a       *Alert
	w       who
	v       Vault
	account string
	region  string
	kms     bool
}

func newAWSBook(a *Alert, w who, v Vault) *awsBook {
	b := &awsBook{a: a, w: w, v: v, kms: v.Provider == providerKMS}
	if acct, region, ok := strings.Cut(v.Name, "/"); ok {
		b.account, b.region = acct, region
	} else if rest, ok := strings.CutPrefix(v.ID, "aws:"); ok {
		b.account, b.region, _ = strings.Cut(rest, ":")
	}
	return b
}

// reg is " --region R" when the region is known.
func (b *awsBook) reg() string {
	if b.region == "" {
		return ""
	}
	return " --region " + shellQuote(b.region)
}

// arnParts splits an IAM or STS principal ARN into its kind ("user",
// "assumed-role", "role", "root") and name.
func arnParts(arn string) (kind, name string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", ""
	}
	res := parts[5]
	if res == "root" {
		return "root", ""
	}
	kind, rest, _ := strings.Cut(res, "/")
	switch kind {
	case "user", "role":
		return kind, rest[strings.LastIndexByte(rest, '/')+1:]
	case "assumed-role":
		role, _, _ := strings.Cut(rest, "/")
		return kind, role
	}
	return kind, rest
}

func (b *awsBook) source() string {
	if b.kms {
		return "kms.amazonaws.com"
	}
	return "secretsmanager.amazonaws.com"
}

// jqCaller is a jq predicate matching the caller's CloudTrail events.
func (b *awsBook) jqCaller() string {
	var or []string
	for _, ip := range b.w.ips {
		or = append(or, ".sourceIPAddress == "+strLit(ip))
	}
	for _, arn := range b.w.arns {
		or = append(or, ".userIdentity.arn == "+strLit(arn))
	}
	if len(or) == 0 {
		return "true"
	}
	return strings.Join(or, " or ")
}

func (b *awsBook) lookup(from, to string) string {
	s := "aws cloudtrail lookup-events" + b.reg() + " --start-time " + shellQuote(from)
	if to != "" {
		s += " --end-time " + shellQuote(to)
	}
	s += " --lookup-attributes AttributeKey=EventSource,AttributeValue=" + b.source() + " --query 'Events[].CloudTrailEvent' --output json"
	jq := ".[] | fromjson | select(" + b.jqCaller() + ") | [.eventTime, .eventName, .sourceIPAddress, .userIdentity.arn, .userIdentity.accessKeyId] | @tsv"
	return s + " | jq -r " + shellQuote(jq)
}

func (b *awsBook) identify() []string {
	c := []string{"aws sts get-caller-identity --query Account --output text"}
	for _, arn := range b.w.arns {
		switch kind, name := arnParts(arn); kind {
		case "user":
			c = append(c, cmdf("aws iam get-user --user-name %s", name), cmdf("aws iam list-access-keys --user-name %s", name))
		case "role", "assumed-role":
			c = append(c, cmdf("aws iam get-role --role-name %s", name))
		}
	}
	return append(c, b.lookup(stamp(b.a.StartTime), stamp(b.a.EndTime)))
}

func (b *awsBook) notes() [4]string {
	var id string
	var s []string
	if b.account != "" {
		id = "Run these in account " + clean(b.account) + " (the first command prints the account you are in); lookup-events reads one region and 90 days."
	}
	for _, arn := range b.w.arns {
		switch kind, _ := arnParts(arn); kind {
		case "user":
			s = append(s, "Set ACCESS_KEY_ID to the key step 1 shows in use (userIdentity.accessKeyId).")
		case "role", "assumed-role":
			s = append(s, `revoke-older-sessions.json denies every session issued before now: {"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"<now, ISO 8601>"}}}]}; then find out how the role was assumed.`)
		case "root":
			s = append(s, "The account's root user was used: change its password, remove its access keys and check its MFA devices from the console.")
		}
	}
	if len(b.w.ips) > 0 {
		s = append(s, "To shut out "+clean(strings.Join(b.w.ips, ", "))+", add a Deny statement with the condition {\"IpAddress\":{\"aws:SourceIp\":[...]}} to the resource policy (put-resource-policy replaces the policy: merge it with the current one) or at the network edge.")
	}
	if b.a.Type == AuditTampering {
		s = append(s, `start-logging resumes a stopped trail; a deleted trail is created again with its bucket (LOG_BUCKET) and, like a trail whose selectors were changed, gets its event selectors back from your configuration management (event-selectors.json holds them; [{"ReadWriteType":"All","IncludeManagementEvents":true}] at least, since Secrets Manager and KMS calls are management events); a deleted event data store can be restored during its 7-day waiting period.`)
	}
	rot := "rotate-secret runs the secret's rotation function when it has one; otherwise write the new value with put-secret-value. Rotating a KMS key keeps the old material for decryption: re-encrypt what the caller could decrypt."
	if b.a.Type == DestructiveBurst {
		rot = "restore-secret and cancel-key-deletion work only during the recovery or waiting period; a secret deleted with --force-delete-without-recovery is gone."
	}
	if !rotatable(b.a) {
		rot = ""
	}
	measure := ""
	if b.a.Type == AuditTampering {
		measure = "CloudTrail's event history (lookup-events) keeps 90 days of management events whatever the trails do: it shows the secret reads and decrypts made while logging was off, and who else called these operations."
	}
	return [4]string{id, strings.Join(s, " "), measure, rot}
}

func (b *awsBook) respond() []string {
	var c []string
	r := b.reg()
	switch b.a.Type {
	case AuditTampering:
		c = append(c, "aws cloudtrail describe-trails"+r)
		trails := b.trails()
		if len(trails) == 0 {
			c = append(c, `aws cloudtrail get-trail-status --name "$TRAIL"`+r, `aws cloudtrail start-logging --name "$TRAIL"`+r,
				`aws cloudtrail get-event-selectors --trail-name "$TRAIL"`+r)
		}
		for _, t := range trails {
			c = append(c, t.restore(r)...)
		}
	case DestructiveBurst:
		if b.kms {
			c = append(c, "aws kms list-keys"+r)
		} else {
			c = append(c, "aws secretsmanager list-secrets --include-planned-deletion"+r)
		}
	}
	for _, arn := range b.w.arns {
		switch kind, name := arnParts(arn); kind {
		case "user":
			c = append(c, cmdf(`aws iam update-access-key --user-name %s --access-key-id "$ACCESS_KEY_ID" --status Inactive`, name))
		case "role", "assumed-role":
			c = append(c, cmdf("aws iam put-role-policy --role-name %s --policy-name AWSRevokeOlderSessions --policy-document file://revoke-older-sessions.json", name))
		}
	}
	if len(b.w.ips) > 0 || len(b.w.arns) > 0 {
		for _, o := range b.a.Evidence.Objects {
			switch {
			case b.kms && o.Kind == "key":
				c = append(c, cmdf("aws kms get-key-policy --key-id %s --policy-name default", o.Name)+r, cmdf("aws kms list-grants --key-id %s", o.Name)+r)
			case !b.kms && o.Kind == "secret":
				c = append(c, cmdf("aws secretsmanager get-resource-policy --secret-id %s", o.Name)+r)
			}
		}
	}
	return c
}

func (b *awsBook) measure() []string {
	c := []string{b.lookup(stamp(b.a.StartTime.Add(-lookback)), "")}
	if b.a.Type == AuditTampering {
		ops := []string{"StopLogging"}
		for op := range b.a.Evidence.Operations {
			if trailOps[op] && op != "StopLogging" {
				ops = append(ops, op)
			}
		}
		sort.Strings(ops[1:])
		for _, op := range ops {
			c = append(c, "aws cloudtrail lookup-events"+b.reg()+" --lookup-attributes AttributeKey=EventName,AttributeValue="+op+
				" --start-time "+shellQuote(stamp(b.a.StartTime.Add(-lookback)))+" --query 'Events[].{time:EventTime, user:Username, event:EventName}' --output table")
		}
	}
	return c
}

// trailOps are the CloudTrail calls that change what is logged, as the
// events of an audit-tampering alert name them.
var trailOps = map[string]bool{
	"StopLogging": true, "DeleteTrail": true, "UpdateTrail": true, "PutEventSelectors": true, "PutInsightSelectors": true,
	"DeleteEventDataStore": true, "StopEventDataStoreIngestion": true, "UpdateEventDataStore": true,
}

// trail is a CloudTrail trail or CloudTrail Lake event data store changed
// in an audit-tampering alert, with the calls made on it.
type trail struct {
	name string // name or ARN, as the call named it
	ops  map[string]int
}

// maxTrails bounds the trails that get their own commands.
const maxTrails = 3

// trails returns the trails and event data stores the alert's evidence
// names: path objects changed by CloudTrail calls.
func (b *awsBook) trails() []trail {
	var out []trail
	for _, o := range b.a.Evidence.Objects {
		if o.Kind != "path" || len(out) == maxTrails {
			continue
		}
		for op := range o.Operations {
			if trailOps[op] {
				out = append(out, trail{name: o.Name, ops: o.Operations})
				break
			}
		}
	}
	return out
}

// restore returns the commands that show and restore one trail or event
// data store; r is the region flag.
func (t trail) restore(r string) []string {
	if strings.Contains(t.name, ":eventdatastore/") {
		c := []string{cmdf("aws cloudtrail get-event-data-store --event-data-store %s", t.name) + r}
		if t.ops["DeleteEventDataStore"] > 0 {
			c = append(c, cmdf("aws cloudtrail restore-event-data-store --event-data-store %s", t.name)+r)
		}
		return append(c, cmdf("aws cloudtrail start-event-data-store-ingestion --event-data-store %s", t.name)+r)
	}
	var c []string
	if t.ops["DeleteTrail"] > 0 {
		c = append(c, cmdf(`aws cloudtrail create-trail --name %s --s3-bucket-name "$LOG_BUCKET" --is-multi-region-trail --enable-log-file-validation`, trailName(t.name))+r)
	} else {
		c = append(c, cmdf("aws cloudtrail get-trail-status --name %s", t.name)+r)
	}
	c = append(c, cmdf("aws cloudtrail start-logging --name %s", t.name)+r,
		cmdf("aws cloudtrail get-event-selectors --trail-name %s", t.name)+r)
	if t.ops["PutEventSelectors"]+t.ops["UpdateTrail"] > 0 || t.ops["DeleteTrail"] > 0 {
		c = append(c, cmdf("aws cloudtrail put-event-selectors --trail-name %s --event-selectors file://event-selectors.json", t.name)+r)
	}
	return c
}

// trailName is the name of a trail given by name or ARN.
func trailName(s string) string {
	if i := strings.LastIndex(s, ":trail/"); i >= 0 {
		return s[i+len(":trail/"):]
	}
	return s
}

func (b *awsBook) rotate() []string {
	var c []string
	r := b.reg()
	for _, o := range b.a.Evidence.Objects {
		restore := b.a.Type == DestructiveBurst && deleted(o)
		switch {
		case o.Kind == "key" && restore:
			c = append(c, cmdf("aws kms cancel-key-deletion --key-id %s", o.Name)+r, cmdf("aws kms enable-key --key-id %s", o.Name)+r)
		case o.Kind == "key":
			c = append(c, cmdf("aws kms rotate-key-on-demand --key-id %s", o.Name)+r)
		case o.Kind == "secret" && restore:
			c = append(c, cmdf("aws secretsmanager restore-secret --secret-id %s", o.Name)+r)
		case o.Kind == "secret":
			c = append(c,
				cmdf("aws secretsmanager rotate-secret --secret-id %s", o.Name)+r,
				cmdf("aws secretsmanager put-secret-value --secret-id %s --secret-string file://new-value.txt", o.Name)+r,
			)
		}
	}
	return c
}

// gcpBook writes gcloud commands for a project's Secret Manager.
type gcpBook struct {
	a *Alert
	w who
	v Vault
}

func (b *gcpBook) project() string {
	if b.v.Name != "" {
		return b.v.Name
	}
	return strings.TrimPrefix(b.v.ID, "gcp:")
}

// member is the IAM member of a principal email.
func member(email string) string {
	if strings.HasSuffix(email, ".gserviceaccount.com") {
		return "serviceAccount:" + email
	}
	return "user:" + email
}

// filter is a Cloud Logging filter for the caller's Secret Manager calls.
func (b *gcpBook) filter(from, to string) string {
	f := `protoPayload.serviceName="secretmanager.googleapis.com" AND timestamp>=` + strLit(from)
	if to != "" {
		f += " AND timestamp<=" + strLit(to)
	}
	var or []string
	for _, ip := range b.w.ips {
		or = append(or, "protoPayload.requestMetadata.callerIp="+strLit(ip))
	}
	for _, e := range b.w.emails {
		or = append(or, "protoPayload.authenticationInfo.principalEmail="+strLit(e))
	}
	if len(or) > 0 {
		f += " AND (" + strings.Join(or, " OR ") + ")"
	}
	return f
}

const gcpLogFormat = "table(timestamp, protoPayload.methodName, protoPayload.requestMetadata.callerIp, protoPayload.authenticationInfo.principalEmail, protoPayload.resourceName)"

func (b *gcpBook) read(from, to string) string {
	return cmdf("gcloud logging read %s --project %s --format %s", b.filter(from, to), b.project(), gcpLogFormat)
}

func (b *gcpBook) identify() []string {
	var c []string
	for _, e := range b.w.emails {
		if strings.HasSuffix(e, ".gserviceaccount.com") {
			c = append(c,
				cmdf("gcloud iam service-accounts describe %s", e),
				cmdf("gcloud iam service-accounts keys list --iam-account %s --managed-by user", e),
			)
		}
	}
	return append(c, b.read(stamp(b.a.StartTime), stamp(b.a.EndTime)))
}

func (b *gcpBook) notes() [4]string {
	var s []string
	for _, e := range b.w.emails {
		if strings.HasSuffix(e, ".gserviceaccount.com") {
			s = append(s, "Set KEY_ID to the user-managed key in use, or disable the service account (which stops its workloads too).")
			break
		}
	}
	if len(b.w.ips) > 0 {
		s = append(s, "Secret Manager has no address deny list: block "+clean(strings.Join(b.w.ips, ", "))+" at the edge, or put the project in a VPC Service Controls perimeter with an access level for your networks.")
	}
	if b.a.Type == DestructiveBurst {
		s = append(s, "A deleted secret cannot be recovered; a destroyed version can be re-enabled only while delayed destruction holds it.")
	}
	for _, e := range b.w.emails {
		if !strings.HasSuffix(e, ".gserviceaccount.com") {
			s = append(s, "A user account ("+clean(e)+") is suspended, and its sessions reset, in the Google Workspace or Cloud Identity admin console.")
		}
	}
	if len(b.w.emails) > 0 {
		s = append(s, "The role that granted access may not be secretAccessor (owner, editor, a custom role): remove the one get-iam-policy shows.")
	}
	rot := "versions add makes the new value the latest; disable the old version (OLD_VERSION from versions list) once readers pinned to it have moved."
	if b.a.Type == DestructiveBurst {
		rot = "Set VERSION to a version pending destruction and enable it before its destroy TTL ends."
	}
	if !rotatable(b.a) {
		rot = ""
	}
	return [4]string{1: strings.Join(s, " "), 3: rot}
}

func (b *gcpBook) respond() []string {
	var c []string
	p := b.project()
	if b.a.Type == AuditTampering {
		c = append(c, cmdf("gcloud projects get-iam-policy %s --format 'json(auditConfigs)'", p), cmdf("gcloud logging sinks list --project %s", p))
	}
	for _, e := range b.w.emails {
		m := member(e)
		if strings.HasPrefix(m, "serviceAccount:") {
			c = append(c,
				cmdf(`gcloud iam service-accounts keys disable "$KEY_ID" --iam-account %s`, e),
				cmdf("gcloud iam service-accounts disable %s", e),
			)
		}
		c = append(c, cmdf("gcloud projects get-iam-policy %s --flatten 'bindings[].members' --filter %s --format 'table(bindings.role)'", p, "bindings.members:"+e))
		c = append(c, cmdf("gcloud projects remove-iam-policy-binding %s --member %s --role roles/secretmanager.secretAccessor", p, m))
		for _, o := range b.a.Evidence.Objects {
			if o.Kind == "secret" {
				c = append(c, cmdf("gcloud secrets remove-iam-policy-binding %s --project %s --member %s --role roles/secretmanager.secretAccessor", o.Name, p, m))
			}
		}
	}
	return c
}

func (b *gcpBook) measure() []string {
	return []string{b.read(stamp(b.a.StartTime.Add(-lookback)), "")}
}

func (b *gcpBook) rotate() []string {
	var c []string
	p := b.project()
	for _, o := range b.a.Evidence.Objects {
		if o.Kind != "secret" {
			continue
		}
		if b.a.Type == DestructiveBurst && deleted(o) {
			c = append(c, cmdf("gcloud secrets versions list %s --project %s", o.Name, p), cmdf(`gcloud secrets versions enable "$VERSION" --secret %s --project %s`, o.Name, p))
			continue
		}
		c = append(c,
			cmdf("gcloud secrets versions add %s --project %s --data-file new-value.txt", o.Name, p),
			cmdf(`gcloud secrets versions disable "$OLD_VERSION" --secret %s --project %s`, o.Name, p),
		)
	}
	return c
}

// shellQuote returns s as one POSIX shell word that expands to exactly s.
// Plain words are left as they are; anything else is single-quoted, an
// embedded single quote closing the quotes, adding an escaped quote (\')
// and reopening them. Values holding control characters (newlines,
// escapes) are written in ANSI-C quoting ($'...', bash and zsh) so that the
// command stays on one line and cannot hide text on a terminal.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	plain, control := true, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20 || c == 0x7f:
			control = true
			plain = false
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("_@%+=:,./-", c) >= 0:
		default:
			plain = false
		}
	}
	if plain {
		return s
	}
	if !control {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// cmdf formats a command: every argument is shell-quoted, so format holds
// the command's fixed words and args the values that come from logs.
func cmdf(format string, args ...string) string {
	q := make([]any, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return fmt.Sprintf(format, q...)
}

// strLit returns s as a double-quoted string literal with backslash escapes
// (JSON's syntax), as jq, KQL and Cloud Logging filters read them. The
// result still has to be shell-quoted as part of its expression.
func strLit(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
