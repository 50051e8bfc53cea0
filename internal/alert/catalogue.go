package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// The alert types, in the order of the catalogue. Their ids are a stable
// API: they never change.
const (
	TorAccess                 Type = "tor-access"
	SuspiciousIPAccess        Type = "suspicious-ip-access"
	SuspiciousIPDenied        Type = "suspicious-ip-denied"
	UnusualIP                 Type = "unusual-ip"
	UnusualApplication        Type = "unusual-application"
	UnusualUser               Type = "unusual-user"
	UnusualUserAppPair        Type = "unusual-user-app-pair"
	HighVolumeOperations      Type = "high-volume-operations"
	UnusualOperationPattern   Type = "unusual-operation-pattern"
	PolicyChangeThenSecretGet Type = "policy-change-then-secret-get"
	ListThenGet               Type = "list-then-get"
	UnusualUserDenied         Type = "unusual-user-denied"
	DeniedManyVaults          Type = "denied-many-vaults"
	ManyVaults                Type = "many-vaults"
	DecoySecretAccess         Type = "decoy-secret-access"
	AuditTampering            Type = "audit-tampering"
	PrivilegedTokenUse        Type = "privileged-token-use"
	DestructiveBurst          Type = "destructive-burst"
	CryptoVolume              Type = "crypto-volume"
	CredentialProbing         Type = "credential-probing"
	CrossProviderAccess       Type = "cross-provider-access"
)

// MITRE ATT&CK tactics, by their ATT&CK short names.
const (
	TacticInitialAccess       = "initial-access"
	TacticPrivilegeEscalation = "privilege-escalation"
	TacticDefenseEvasion      = "defense-evasion"
	TacticCredentialAccess    = "credential-access"
	TacticDiscovery           = "discovery"
	TacticImpact              = "impact"
)

// Info describes one alert type: what it is called, how severe it is, where
// it sits in MITRE ATT&CK and what it means.
type Info struct {
	Type     Type
	Title    string
	Severity Severity
	// Tactics are MITRE ATT&CK tactic short names, e.g. "credential-access".
	Tactics []string
	// Technique is the MITRE ATT&CK technique id, e.g. "T1555.006".
	Technique string
	// Defender is the Microsoft Defender for Key Vault alert id of the
	// equivalent alert, e.g. "KV_TORAccess"; "" for vaultwatch's own.
	Defender string
	// Description is one paragraph: what the alert means.
	Description string
}

// ATT&CK techniques used by the catalogue.
const (
	// T1555.006 Credentials from Password Stores: Cloud Secrets Management
	// Stores.
	techCloudSecrets = "T1555.006"
	// T1078.004 Valid Accounts: Cloud Accounts.
	techCloudAccounts = "T1078.004"
	// T1580 Cloud Infrastructure Discovery.
	techCloudDiscovery = "T1580"
	// T1098.003 Account Manipulation: Additional Cloud Roles.
	techCloudRoles = "T1098.003"
	// T1562.008 Impair Defenses: Disable or Modify Cloud Logs.
	techCloudLogs = "T1562.008"
	// T1078 Valid Accounts (a root credential).
	techValidAccounts = "T1078"
	// T1485 Data Destruction.
	techDestruction = "T1485"
	// T1110 Brute Force.
	techBruteForce = "T1110"
)

var catalogue = []Info{
	{TorAccess, "Access from a Tor exit node", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "KV_TORAccess",
		"The vault was used from an address that is a known Tor exit node. Legitimate applications and administrators almost never reach a vault through Tor; an attacker hiding their origin with stolen credentials does."},
	{SuspiciousIPAccess, "Access from a suspicious IP address", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "KV_SuspiciousIPAccess",
		"The vault was used successfully from an address on a threat-intelligence reputation list. The caller's credentials are likely in the hands of whoever operates that address."},
	{SuspiciousIPDenied, "Denied access from a suspicious IP address", SeverityLow, []string{TacticCredentialAccess}, techCloudSecrets, "KV_SuspiciousIPAccessDenied",
		"An address on a threat-intelligence reputation list tried to use the vault and was denied. Nothing was read, but someone who knows the vault and holds some credential is trying it."},
	{UnusualIP, "Access from an unusual network", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "KV_UnusualAccessSuspiciousIP",
		"A principal used the vault from a network it has never used on this vault, outside the provider networks it usually comes from. Cloud-provider addresses still alert: an attacker's virtual machine carries a cloud provider's address too. Stolen credentials replayed from elsewhere look like this."},
	{UnusualApplication, "Unusual application accessed the vault", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "KV_AppAnomaly",
		"An application (service principal, client or role) that has never used this vault during its learning period used it. New deployments do this once; a stolen application credential does it too."},
	{UnusualUser, "Unusual user accessed the vault", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "KV_UserAnomaly",
		"A user who has never used this vault during its learning period used it. A new team member does this once; a compromised account exploring what it can reach does it too."},
	{UnusualUserAppPair, "Unusual user-application pair accessed the vault", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "KV_UserAppAnomaly",
		"A user known on this vault used it through an application they have never used here, such as a script or a different tool. A stolen session or token used from another client looks like this."},
	{HighVolumeOperations, "High volume of operations", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "KV_OperationVolumeAnomaly",
		"A principal or the vault performed far more operations than its learned profile for this hour of the week. Bulk reading of secrets by a stolen credential looks like this; so does a misbehaving deployment."},
	{UnusualOperationPattern, "Unusual operation pattern", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "KV_OperationPatternAnomaly",
		"A principal performed classes of operation it never performs on this vault, such as backups, deletes, purges, listings after only ever reading, or policy changes. A credential used for something other than its purpose looks like this."},
	{PolicyChangeThenSecretGet, "Access policy change followed by secret reads", SeverityMedium, []string{TacticCredentialAccess, TacticPrivilegeEscalation}, techCloudRoles, "KV_PutGetAnomaly",
		"A policy or access change on the vault was followed by reads of secrets that the change made possible. An attacker who can manage the vault grants itself access, then reads."},
	{ListThenGet, "Secret listing followed by many reads", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "KV_ListGetAnomaly",
		"A principal listed the vault's secrets and then read many distinct ones, which it does not normally do. Enumerating a vault and dumping what it holds looks like this."},
	{UnusualUserDenied, "Denied access by an unusual principal", SeverityLow, []string{TacticInitialAccess, TacticDiscovery}, techCloudAccounts, "KV_UserAccessDeniedAnomaly",
		"A principal that does not normally use this vault tried to and was denied. Someone holding a credential is testing what it can reach."},
	{DeniedManyVaults, "Denied access on an unusual number of vaults", SeverityLow, []string{TacticDiscovery}, techCloudDiscovery, "KV_AccountVolumeAccessDeniedAnomaly",
		"One principal was denied on an unusual number of vaults. Someone is sweeping the vaults they can see to find the ones this credential opens."},
	{ManyVaults, "Access to an unusual number of vaults", SeverityMedium, []string{TacticCredentialAccess, TacticDiscovery}, techCloudSecrets, "KV_AccountVolumeAnomaly",
		"One principal used an unusual number of vaults. A credential with broad access being used to collect secrets across the estate looks like this."},
	{DecoySecretAccess, "Decoy secret read", SeverityHigh, []string{TacticCredentialAccess}, techCloudSecrets, "",
		"A secret declared as a decoy was read. No application uses a decoy, so whoever read it was exploring the vault: treat the caller as compromised."},
	{AuditTampering, "Audit logging disabled or changed", SeverityHigh, []string{TacticDefenseEvasion}, techCloudLogs, "",
		"An audit device was disabled or changed (HashiCorp Vault / OpenBao), or the provider's equivalent logging was changed where its log shows it. Attackers blind the audit trail before or after they act."},
	{PrivilegedTokenUse, "Root credential used", SeverityHigh, []string{TacticPrivilegeEscalation}, techValidAccounts, "",
		"A root token was used or generated (HashiCorp Vault / OpenBao generate-root), or an account's root credential was used. Root credentials bypass every policy and should exist only during emergencies."},
	{DestructiveBurst, "Burst of deletions", SeverityHigh, []string{TacticImpact}, techDestruction, "",
		"Many objects were deleted or purged in a short time. Ransom and sabotage look like this; recover the objects while their soft-deleted copies still exist."},
	{CryptoVolume, "Unusual cryptographic key use", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "",
		"A principal decrypted, unwrapped or signed with a key it has never used, or far above its learned profile. Decrypting data keys in bulk exposes the data they protect."},
	{CredentialProbing, "Credential probing", SeverityLow, []string{TacticCredentialAccess}, techBruteForce, "",
		"One source made a burst of unauthenticated calls. Someone is guessing or replaying tokens and keys against the vault."},
	{CrossProviderAccess, "Same address reading secrets in two providers", SeverityMedium, []string{TacticCredentialAccess}, techCloudSecrets, "",
		"One address read secrets from two different providers within an hour. Few legitimate workloads span providers from one address; an attacker harvesting every credential store they found does."},
}

var byType = func() map[Type]int {
	m := make(map[Type]int, len(catalogue))
	for i, in := range catalogue {
		m[in.Type] = i
	}
	return m
}()

// Catalogue returns every alert type, in the catalogue's order. The slice
// is a copy: callers may change it.
func Catalogue() []Info {
	out := make([]Info, len(catalogue))
	for i, in := range catalogue {
		in.Tactics = append([]string(nil), in.Tactics...)
		out[i] = in
	}
	return out
}

// Lookup returns the catalogue entry of t, and whether t is known.
func Lookup(t Type) (Info, bool) {
	i, ok := byType[t]
	if !ok {
		return Info{}, false
	}
	in := catalogue[i]
	in.Tactics = append([]string(nil), in.Tactics...)
	return in, true
}

// Fill completes a from the catalogue and the playbook: Title, Severity,
// Tactics and Technique when they are empty, a stable ID when it is empty
// (see StableID), and Remediation when it is empty. Values already set are
// kept, so a detector that knows better (a higher severity, say) wins.
func (a *Alert) Fill() {
	if in, ok := Lookup(a.Type); ok {
		if a.Title == "" {
			a.Title = in.Title
		}
		if a.Severity == "" {
			a.Severity = in.Severity
		}
		if len(a.Tactics) == 0 {
			a.Tactics = in.Tactics
		}
		if a.Technique == "" {
			a.Technique = in.Technique
		}
	}
	if a.ID == "" {
		a.ID = a.StableID()
	}
	if len(a.Remediation) == 0 {
		a.Remediation = Playbook(a)
	}
}

// StableID returns "vw-" and 16 hex digits of a hash of the alert's type,
// vault id, first entity (see FirstEntity) and start time: the same burst
// seen by two scans gets the same id.
func (a *Alert) StableID() string {
	h := sha256.New()
	for _, s := range []string{string(a.Type), a.Vault.ID, a.FirstEntity(), a.StartTime.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "vw-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// FirstEntity returns the alert's most specific principal, in the order
// event.Caller.Principal prefers (object id, Vault entity, ARN, GCP
// principal, UPN, app id, token accessor, display name), else its first
// address, else "".
func (a *Alert) FirstEntity() string {
	e := &a.Entities
	for _, l := range [][]string{e.ObjectIDs, e.VaultEntities, e.ARNs, e.Principals, e.UPNs, e.AppIDs, e.TokenAccessors, e.DisplayNames} {
		if len(l) > 0 {
			return l[0]
		}
	}
	if len(e.IPs) > 0 {
		return e.IPs[0].Address
	}
	return ""
}
