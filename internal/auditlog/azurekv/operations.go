package azurekv

import (
	"strings"

	"vaultwatch/internal/event"
)

// opClasses classifies the operation names Key Vault documents whose class
// the suffix rules in classify would get wrong or could not tell.
var opClasses = map[string]event.Class{
	// The vault itself (control plane).
	"Authentication": event.ClassAuth,
	"VaultGet":       event.ClassManagement,
	"VaultList":      event.ClassList,
	// VaultPut and VaultPatch carry access policy and network rule changes.
	"VaultPut":                   event.ClassPolicyChange,
	"VaultPatch":                 event.ClassPolicyChange,
	"VaultAccessPolicyChange":    event.ClassPolicyChange,
	"VaultDelete":                event.ClassDelete,
	"VaultRecover":               event.ClassRecover,
	"VaultPurge":                 event.ClassPurge,
	"VaultGetDeleted":            event.ClassManagement,
	"VaultListDeleted":           event.ClassList,
	"VaultCheckNameAvailability": event.ClassManagement,
	"VaultAccessPolicyChangedEventGridNotification": event.ClassPolicyChange,

	// Keys: reading a key returns its public part and metadata, a read.
	"KeyRotate":               event.ClassWrite,
	"KeyRotateIfDue":          event.ClassWrite,
	"KeyRotationPolicyGet":    event.ClassManagement,
	"KeyRotationPolicySet":    event.ClassManagement,
	"KeyGetRotationPolicy":    event.ClassManagement,
	"KeySetRotationPolicy":    event.ClassManagement,
	"KeyUpdateRotationPolicy": event.ClassManagement,

	// Certificates: issuers, contacts, policies and pending operations are
	// management of the certificate machinery, not access to a certificate.
	"CertificatePolicyGet":      event.ClassManagement,
	"CertificatePolicySet":      event.ClassManagement,
	"CertificatePolicyUpdate":   event.ClassManagement,
	"CertificateContactsGet":    event.ClassManagement,
	"CertificateContactsSet":    event.ClassManagement,
	"CertificateContactsDelete": event.ClassManagement,
	"CertificateIssuerGet":      event.ClassManagement,
	"CertificateIssuerSet":      event.ClassManagement,
	"CertificateIssuerCreate":   event.ClassManagement,
	"CertificateIssuerUpdate":   event.ClassManagement,
	"CertificateIssuerDelete":   event.ClassManagement,
	"CertificateIssuersList":    event.ClassList,
	"CertificatePendingGet":     event.ClassManagement,
	"CertificatePendingUpdate":  event.ClassManagement,
	"CertificatePendingDelete":  event.ClassManagement,
	"CertificatePendingMerge":   event.ClassWrite,
	"CertificateEnroll":         event.ClassWrite,
	"CertificateRenew":          event.ClassWrite,
}

// suffixClasses are tried in order on names the table does not hold:
// Key Vault names operations ObjectVerb (SecretGet, KeyListVersions).
var suffixClasses = []struct {
	suffix string
	class  event.Class
}{
	{notificationSuffix, event.ClassManagement},
	{"SetPolicy", event.ClassPolicyChange},
	{"AccessPolicy", event.ClassPolicyChange},
	{"GetDeleted", event.ClassRead},
	{"ListDeleted", event.ClassList},
	{"ListVersions", event.ClassList},
	{"List", event.ClassList},
	{"Get", event.ClassRead},
	{"Purge", event.ClassPurge},
	{"Backup", event.ClassBackup},
	{"Restore", event.ClassRestore},
	{"Recover", event.ClassRecover},
	{"Delete", event.ClassDelete},
	{"Set", event.ClassWrite},
	{"Create", event.ClassWrite},
	{"Import", event.ClassWrite},
	{"Update", event.ClassWrite},
	{"Put", event.ClassWrite},
	{"Patch", event.ClassWrite},
	{"Merge", event.ClassWrite},
	{"Encrypt", event.ClassCrypto},
	{"Decrypt", event.ClassCrypto},
	{"Sign", event.ClassCrypto},
	{"Verify", event.ClassCrypto},
	{"Wrap", event.ClassCrypto},
	{"Unwrap", event.ClassCrypto},
	{"WrapKey", event.ClassCrypto},
	{"UnwrapKey", event.ClassCrypto},
	{"Release", event.ClassCrypto},
}

// classify returns the class of a Key Vault operation name; unknown names
// are ClassOther.
func classify(name string) event.Class {
	if c, ok := opClasses[name]; ok {
		return c
	}
	if rest, ok := strings.CutPrefix(name, "RoleAssignment"); ok || strings.HasPrefix(name, "RoleDefinition") {
		if !ok {
			rest = name[len("RoleDefinition"):]
		}
		switch rest {
		case "Get":
			return event.ClassManagement
		case "List":
			return event.ClassList
		}
		return event.ClassPolicyChange
	}
	for _, s := range suffixClasses {
		if len(name) > len(s.suffix) && strings.HasSuffix(name, s.suffix) {
			return s.class
		}
	}
	return event.ClassOther
}
