// Package simulate generates realistic, labelled vault traffic: an
// organisation with people, applications and vaults living through weeks of
// ordinary work and benign change, attackers acting among them, and the logs
// all of it leaves, written exactly as the real systems write them. It also
// scores a detector's alerts against the labels.
//
// The package models organisations and attackers, never vaultwatch's
// detectors: it imports nothing of the detection side.
//
// The pipeline is: NewOrg builds the organisation from a seed; each day the
// traffic generator (and the attack injector, after the learning days)
// produces Accesses, the neutral record of one call; the writers turn each
// Access into the provider's log record (Azure Key Vault AuditEvent, Vault
// audit device, CloudTrail) and lay the files out as the real systems do.
package simulate

import (
	"net/netip"
	"time"
)

// Provider is the kind of vault a simulated vault is.
type Provider string

// Simulated providers, named as the --formats flag names them.
const (
	Azure      Provider = "azure"
	HashiVault Provider = "vault"
	AWS        Provider = "aws"
)

// Vault is one simulated vault: an Azure key vault, a Vault KV mount, or an
// AWS account and region's Secrets Manager.
type Vault struct {
	Name     string // "kv-payments-prod"; the KV mount for Vault ("kv-payments")
	Provider Provider
	Team     string // owning team

	// Azure.
	Subscription  string // lower-case GUID
	ResourceGroup string // upper-case in resource ids, as Azure writes them
	Location      string // "westeurope"

	// AWS.
	Account string // 12 digits
	Region  string

	Secrets      []string
	Keys         []string
	Certificates []string
	// Versions is the current version of each object (by name), changed by
	// rotation.
	Versions map[string]string
	// Decoys are secrets nobody legitimately reads.
	Decoys []string
}

// IdentityKind is what a principal is.
type IdentityKind string

// Identity kinds.
const (
	KindUser             IdentityKind = "user"
	KindServicePrincipal IdentityKind = "service-principal"
	KindManagedIdentity  IdentityKind = "managed-identity"
	KindProviderService  IdentityKind = "provider-service" // Azure Resource Graph, Policy Insights, AWS services
)

// Principal is someone or something that calls vaults: a person, an
// application's service principal or managed identity, a provider's
// background service.
type Principal struct {
	Kind        IdentityKind
	Name        string // display name: "maria.lopez", "payments-api"
	ObjectID    string // Entra object id
	AppID       string // the application (client) id; for users, the client app they use (portal, CLI)
	UPN         string // users
	TenantID    string
	MIResource  string // managed identity resource id (xms_mirid)
	VaultEntity string // Vault identity entity id
	VaultRole   string // Vault auth: "approle", "userpass", "kubernetes", "oidc"
	Policies    []string
	Accessor    string // Vault token accessor (clear; the Vault writer HMACs it)
	ARN         string // AWS
	AccessKeyID string // AWS
	UserAgent   string

	Country  string         // home country (ISO 3166 alpha-2)
	TZ       *time.Location // where the person works, or the app's region
	Networks []netip.Prefix // where its calls come from normally (office egress, cloud subnet, on-premises)

	Team   string
	Admin  bool     // manages vaults: portal browsing, policy changes
	Vaults []*Vault // the vaults it is authorised on and normally uses
}

// Org is a simulated organisation: its people, applications, background
// services and vaults, over a period of days.
type Org struct {
	Name     string // "Contoso"
	Domain   string // "contoso.com"
	TenantID string

	Start        time.Time // midnight UTC of the first day
	Days         int
	LearningDays int
	Formats      []Provider

	Vaults   []*Vault
	Users    []*Principal
	Apps     []*Principal // service principals and managed identities
	Services []*Principal // provider background callers

	plan *plan // how it behaves, derived once (traffic.go)
}

// TestStart is when the learning days end and attacks may begin.
func (o *Org) TestStart() time.Time {
	return o.Start.AddDate(0, 0, o.LearningDays)
}

// End is the end of the simulated period.
func (o *Org) End() time.Time {
	return o.Start.AddDate(0, 0, o.Days)
}

// Op is a neutral operation, mapped by each writer onto the provider's own.
type Op string

// Neutral operations.
const (
	OpSecretGet      Op = "secret-get"
	OpSecretList     Op = "secret-list"
	OpSecretVersions Op = "secret-list-versions"
	OpSecretSet      Op = "secret-set"
	OpSecretDelete   Op = "secret-delete"
	OpSecretPurge    Op = "secret-purge"
	OpSecretBackup   Op = "secret-backup"
	OpSecretRestore  Op = "secret-restore"
	OpSecretRecover  Op = "secret-recover"
	OpKeyGet         Op = "key-get"
	OpKeyList        Op = "key-list"
	OpKeyCreate      Op = "key-create"
	OpKeyRotate      Op = "key-rotate"
	OpKeyDelete      Op = "key-delete"
	OpKeyBackup      Op = "key-backup"
	OpKeyDecrypt     Op = "key-decrypt"
	OpKeyEncrypt     Op = "key-encrypt"
	OpKeyUnwrap      Op = "key-unwrap"
	OpKeyWrap        Op = "key-wrap"
	OpKeySign        Op = "key-sign"
	OpCertGet        Op = "certificate-get"
	OpCertList       Op = "certificate-list"
	OpCertCreate     Op = "certificate-create"
	OpCertImport     Op = "certificate-import"
	OpVaultGet       Op = "vault-get"         // control plane read (portal, Resource Graph)
	OpPolicyChange   Op = "policy-change"     // access policy / RBAC / Vault policy write / resource policy
	OpNetworkChange  Op = "network-change"    // firewall rules
	OpLogin          Op = "login"             // Vault auth
	OpAuditDisable   Op = "audit-disable"     // Vault sys/audit delete
	OpAuditEnable    Op = "audit-enable"      // Vault sys/audit write
	OpGenerateRoot   Op = "generate-root"     // Vault sys/generate-root
	OpTokenLookup    Op = "token-lookup"      // Vault auth/token/lookup-self
	OpVaultListAll   Op = "vault-list-mounts" // Vault sys/mounts read
)

// Access is one call to a vault, neutral: a writer turns it into the
// provider's record. Object is the secret, key or certificate name; Version
// the version the call returned or wrote ("" for the latest when the
// provider logs none).
type Access struct {
	Time      time.Time
	Vault     *Vault
	Principal *Principal
	Op        Op
	Object    string
	Version   string
	IP        netip.Addr
	UserAgent string // overrides the principal's
	// Status is the HTTP-like result: 200, 401, 403, 404, 429, 500.
	Status int
	// Root marks a call made with a root token (Vault).
	Root bool
	// InvokedBy names the provider service that made the call on the
	// principal's behalf: Secrets Manager decrypting with KMS for a
	// GetSecretValue is logged as the caller's call, invoked by
	// secretsmanager.amazonaws.com.
	InvokedBy string
}

// Label is one injected attack, as labels.jsonl holds it.
type Label struct {
	ID       string   `json:"id"`
	Scenario string   `json:"scenario"`
	Vaults   []string `json:"vaults"` // vault names
	// Providers of the vaults, in the same order.
	Providers []Provider `json:"providers"`
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"`
	Entities  Entities   `json:"entities"`
	// ExpectedAlerts are the alert types (the detection catalogue's ids)
	// this attack should raise.
	ExpectedAlerts []string `json:"expected_alerts"`
	Description    string   `json:"description"`
}

// Entities are what identifies the attacker in the logs.
type Entities struct {
	IPs           []string `json:"ips,omitempty"`
	ObjectIDs     []string `json:"object_ids,omitempty"`
	UPNs          []string `json:"upns,omitempty"`
	AppIDs        []string `json:"app_ids,omitempty"`
	VaultEntities []string `json:"vault_entities,omitempty"`
	ARNs          []string `json:"arns,omitempty"`
}

// Writer turns accesses into one provider's log files under a folder.
// Accesses arrive in time order; Write ignores those of other providers.
type Writer interface {
	Write(a *Access) error
	Close() error
}

// Options configure a simulation.
type Options struct {
	Out          string     // output folder
	Seed         uint64     // same seed, same bytes
	Vaults       int        // number of vaults across the formats (default 12)
	Days         int        // simulated days (default 30)
	LearningDays int        // days before any attack (default 7)
	Formats      []Provider // default Azure and HashiVault
	Start        time.Time  // midnight UTC of the first day (default 2026-10-01)
	// IntelDir holds real threat-intel lists (tor-exit-nodes.txt,
	// ipsum-level3.txt) to draw attacker addresses from; empty means
	// built-in addresses from documentation-free public ranges.
	IntelDir string
}
