// Package event defines the normalized access event that every stage of
// vaultwatch speaks: parsers produce it, detectors consume it, the store and
// the API show it.
//
// An Event never carries a secret value, a token or a password. Identifiers
// that a provider already hashes (Vault's HMAC-ed accessors) are kept as
// opaque ids.
package event

import (
	"net/netip"
	"time"
)

// Provider names the secret store that wrote the log record.
type Provider string

// The providers vaultwatch reads.
const (
	ProviderAzureKeyVault     Provider = "azure-keyvault"
	ProviderHashiCorpVault    Provider = "hashicorp-vault"
	ProviderAWSSecretsManager Provider = "aws-secretsmanager"
	ProviderAWSKMS            Provider = "aws-kms"
	ProviderGCPSecretManager  Provider = "gcp-secretmanager"
)

// Format names the log format a record was read from (one provider may be
// read from several formats, and one format may carry several providers).
type Format string

// The formats vaultwatch reads.
const (
	FormatAzureKeyVault Format = "azure-keyvault-auditevent"
	FormatVaultAudit    Format = "vault-audit"
	FormatCloudTrail    Format = "aws-cloudtrail"
	FormatGCPAudit      Format = "gcp-auditlog"
)

// Class is the normalized class of an operation.
type Class string

// Operation classes. Detectors reason about classes; the provider's raw
// operation name is kept beside the class for display.
const (
	ClassRead         Class = "read"
	ClassList         Class = "list"
	ClassWrite        Class = "write"
	ClassDelete       Class = "delete"
	ClassPurge        Class = "purge"
	ClassBackup       Class = "backup"
	ClassRestore      Class = "restore"
	ClassRecover      Class = "recover"
	ClassPolicyChange Class = "policy-change"
	ClassCrypto       Class = "crypto"
	ClassAuth         Class = "auth"
	ClassManagement   Class = "management"
	ClassOther        Class = "other"
	// ClassAuditConfig is a change to what the provider records about a
	// vault: a Vault/OpenBao audit device enabled, disabled or changed, a
	// CloudTrail trail or event data store stopped, deleted or re-scoped,
	// a Key Vault diagnostic setting written or deleted. Reading the audit
	// configuration is management.
	ClassAuditConfig Class = "audit-config"
)

// ObjectKind is the kind of object an operation touched.
type ObjectKind string

// Object kinds.
const (
	KindSecret      ObjectKind = "secret"
	KindKey         ObjectKind = "key"
	KindCertificate ObjectKind = "certificate"
	KindPath        ObjectKind = "path"
)

// IdentityType is the kind of principal that made a call.
type IdentityType string

// Identity types.
const (
	IdentityUser             IdentityType = "user"
	IdentityServicePrincipal IdentityType = "service-principal"
	IdentityManagedIdentity  IdentityType = "managed-identity"
	IdentityProviderService  IdentityType = "provider-service"
	IdentityAnonymous        IdentityType = "anonymous"
)

// Outcome is the normalized result of a call.
type Outcome string

// Outcomes. OutcomeUnknown is used only when the log never said how the call
// ended (a Vault request entry whose response was never written).
const (
	OutcomeSuccess         Outcome = "success"
	OutcomeDenied          Outcome = "denied"
	OutcomeNotFound        Outcome = "not-found"
	OutcomeThrottled       Outcome = "throttled"
	OutcomeUnauthenticated Outcome = "unauthenticated"
	OutcomeError           Outcome = "error"
	OutcomeUnknown         Outcome = "unknown"
)

// Vault identifies the vault an event belongs to: an Azure key vault, a
// Vault/OpenBao KV mount in a namespace, an AWS account and region, a GCP
// project.
type Vault struct {
	// ID is canonical and stable (e.g. the Azure resource id, lower-case).
	ID string `json:"id"`
	// Name is short and readable (e.g. "kv-payments").
	Name string `json:"name"`
}

// Operation is what was done.
type Operation struct {
	Name  string `json:"name"`  // the provider's raw name, e.g. "SecretGet"
	Class Class  `json:"class"` // normalized
	// Detail says in a few words what an audit-configuration change does
	// when the record shows it, e.g. "management events excluded". It is
	// made of fixed words and names only, never of a request's values.
	Detail string `json:"detail,omitempty"`
}

// Object is what an operation touched. Its identity (Key) ignores the
// version, so that a rotated secret is the same secret.
type Object struct {
	Kind    ObjectKind `json:"kind,omitempty"`
	Name    string     `json:"name,omitempty"`
	Version string     `json:"version,omitempty"`
}

// Key returns the version-insensitive identity of the object within its
// vault, e.g. "secret/db-password". It is empty when there is no object.
func (o Object) Key() string {
	if o.Name == "" {
		return ""
	}
	return string(o.Kind) + "/" + o.Name
}

// Caller is who made a call. Fields a provider does not carry stay empty.
type Caller struct {
	Type        IdentityType `json:"type,omitempty"`
	ObjectID    string       `json:"object_id,omitempty"` // Azure AD / Entra object id
	UPN         string       `json:"upn,omitempty"`
	AppID       string       `json:"app_id,omitempty"`
	TenantID    string       `json:"tenant_id,omitempty"`
	DisplayName string       `json:"display_name,omitempty"`
	// ResourceID is the Azure resource id of a managed identity (xms_mirid).
	ResourceID string `json:"resource_id,omitempty"`
	// VaultEntityID is the Vault/OpenBao identity entity id.
	VaultEntityID string `json:"vault_entity_id,omitempty"`
	// TokenAccessor is the Vault token accessor as the audit device wrote
	// it: HMAC-ed unless the device logs raw values, in which case the
	// parser hashes it. Never a token.
	TokenAccessor string `json:"token_accessor,omitempty"`
	// Policies are the Vault policies attached to the token.
	Policies []string `json:"policies,omitempty"`
	// ARN is the AWS principal ARN.
	ARN string `json:"arn,omitempty"`
	// AccessKeyID is the AWS access key id (an identifier, not a secret).
	AccessKeyID string `json:"access_key_id,omitempty"`
	// AccountID is the AWS account of the principal.
	AccountID string `json:"account_id,omitempty"`
	// PrincipalEmail is the GCP principal.
	PrincipalEmail string `json:"principal_email,omitempty"`
	// InvokedBy names the provider service that made the call on the
	// principal's behalf (e.g. CloudTrail invokedBy).
	InvokedBy string `json:"invoked_by,omitempty"`
	// Privileged is set for root credentials: a Vault root token, an AWS
	// account root user.
	Privileged bool `json:"privileged,omitempty"`
}

// Principal returns the most specific stable identifier of the caller, used
// as its key by baselines. It is empty for anonymous callers.
func (c *Caller) Principal() string {
	switch {
	case c.ObjectID != "":
		return c.ObjectID
	case c.VaultEntityID != "":
		return c.VaultEntityID
	case c.ARN != "":
		return c.ARN
	case c.PrincipalEmail != "":
		return c.PrincipalEmail
	case c.UPN != "":
		return c.UPN
	case c.AppID != "":
		return c.AppID
	case c.TokenAccessor != "":
		return c.TokenAccessor
	case c.DisplayName != "":
		return c.DisplayName
	}
	return ""
}

// Result is how a call ended.
type Result struct {
	Outcome Outcome `json:"outcome"`
	// Status is the provider's status code: HTTP status for Azure, gRPC/HTTP
	// code for GCP, 0 when the provider gives none.
	Status int `json:"status,omitempty"`
	// Reason is the provider's error code or short description, e.g.
	// "AccessDenied", "permission denied". Never request data.
	Reason string `json:"reason,omitempty"`
}

// Location says where a record came from: a file and line, or a named
// source and offset.
type Location struct {
	File   string `json:"file,omitempty"`
	Line   int64  `json:"line,omitempty"`
	Source string `json:"source,omitempty"`
	Offset int64  `json:"offset,omitempty"`
}

// Event is one access to a vault, normalized across providers.
type Event struct {
	Time     time.Time `json:"time"`
	Provider Provider  `json:"provider"`
	Format   Format    `json:"format"`
	Vault    Vault     `json:"vault"`

	Operation Operation `json:"operation"`
	Object    Object    `json:"object,omitzero"`
	Caller    Caller    `json:"caller"`

	// IP is the caller's address when the log gives one as an address.
	IP netip.Addr `json:"ip,omitzero"`
	// Host keeps a source that is not an address, e.g. "AWS Internal" or
	// "secretsmanager.amazonaws.com".
	Host string `json:"host,omitempty"`

	UserAgent     string `json:"user_agent,omitempty"`
	CorrelationID string `json:"correlation_id,omitempty"`

	Result Result   `json:"result"`
	Source Location `json:"source"`
}

// Reset clears e for reuse, keeping the capacity of its slices.
func (e *Event) Reset() {
	p := e.Caller.Policies[:0]
	*e = Event{}
	e.Caller.Policies = p
}
