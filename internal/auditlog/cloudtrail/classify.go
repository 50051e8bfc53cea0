package cloudtrail

import (
	"bytes"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// secretsManagerClasses maps Secrets Manager API calls to classes.
var secretsManagerClasses = map[string]event.Class{
	"GetSecretValue":      event.ClassRead,
	"BatchGetSecretValue": event.ClassRead,

	"ListSecrets":          event.ClassList,
	"ListSecretVersionIds": event.ClassList,

	"DescribeSecret":         event.ClassManagement,
	"GetResourcePolicy":      event.ClassManagement,
	"ValidateResourcePolicy": event.ClassManagement,
	"GetRandomPassword":      event.ClassManagement,
	"CancelRotateSecret":     event.ClassManagement,
	"TagResource":            event.ClassManagement,
	"UntagResource":          event.ClassManagement,

	"CreateSecret":                 event.ClassWrite,
	"PutSecretValue":               event.ClassWrite,
	"UpdateSecret":                 event.ClassWrite,
	"UpdateSecretVersionStage":     event.ClassWrite,
	"RotateSecret":                 event.ClassWrite,
	"ReplicateSecretToRegions":     event.ClassWrite,
	"RemoveRegionsFromReplication": event.ClassWrite,
	"StopReplicationToReplica":     event.ClassWrite,

	"DeleteSecret":  event.ClassDelete, // purge when forced, see secretsManagerClass
	"RestoreSecret": event.ClassRecover,

	"PutResourcePolicy":    event.ClassPolicyChange,
	"DeleteResourcePolicy": event.ClassPolicyChange,
}

// secretsManagerClass classifies a Secrets Manager record. Events the
// service writes on its own (AwsServiceEvent: RotationStarted,
// StartSecretVersionDelete, EndSecretVersionDelete, ...) are the service's
// bookkeeping of an earlier call, so they are management.
func secretsManagerClass(name []byte, serviceEvent bool, params *fastjson.Value) event.Class {
	if serviceEvent {
		return event.ClassManagement
	}
	c, ok := secretsManagerClasses[string(name)]
	if !ok {
		return event.ClassOther
	}
	if c == event.ClassDelete {
		if force, _ := record.Bool(params, "forceDeleteWithoutRecovery"); force {
			return event.ClassPurge
		}
	}
	return c
}

// kmsClasses maps KMS API calls to classes; see kmsClass for the prefixes.
var kmsClasses = map[string]event.Class{
	"Decrypt":            event.ClassCrypto,
	"Encrypt":            event.ClassCrypto,
	"Sign":               event.ClassCrypto,
	"Verify":             event.ClassCrypto,
	"GenerateMac":        event.ClassCrypto,
	"VerifyMac":          event.ClassCrypto,
	"GenerateRandom":     event.ClassCrypto,
	"DeriveSharedSecret": event.ClassCrypto,

	"DescribeKey":            event.ClassManagement,
	"GetKeyPolicy":           event.ClassManagement,
	"GetKeyRotationStatus":   event.ClassManagement,
	"GetPublicKey":           event.ClassManagement,
	"GetParametersForImport": event.ClassManagement,
	"DisableKey":             event.ClassManagement,
	"EnableKey":              event.ClassManagement,
	"DisableKeyRotation":     event.ClassManagement,
	"UpdatePrimaryRegion":    event.ClassManagement,

	"CreateKey":            event.ClassWrite,
	"CreateAlias":          event.ClassWrite,
	"UpdateAlias":          event.ClassWrite,
	"TagResource":          event.ClassWrite,
	"UntagResource":        event.ClassWrite,
	"EnableKeyRotation":    event.ClassWrite,
	"ImportKeyMaterial":    event.ClassWrite,
	"UpdateKeyDescription": event.ClassWrite,
	"ReplicateKey":         event.ClassWrite,
	"RotateKeyOnDemand":    event.ClassWrite,

	"PutKeyPolicy": event.ClassPolicyChange,
	"CreateGrant":  event.ClassPolicyChange,
	"RetireGrant":  event.ClassPolicyChange,
	"RevokeGrant":  event.ClassPolicyChange,

	"ScheduleKeyDeletion":       event.ClassDelete,
	"DeleteAlias":               event.ClassDelete,
	"DeleteImportedKeyMaterial": event.ClassDelete,

	"CancelKeyDeletion": event.ClassRecover,
}

// kmsClass classifies a KMS record: GenerateDataKey* and ReEncrypt* are
// crypto, List* are list. Events KMS writes on its own (automatic rotation,
// deletion at the end of the waiting period) are management.
func kmsClass(name []byte, serviceEvent bool) event.Class {
	if serviceEvent {
		return event.ClassManagement
	}
	if c, ok := kmsClasses[string(name)]; ok {
		return c
	}
	switch {
	case bytes.HasPrefix(name, []byte("GenerateDataKey")), bytes.HasPrefix(name, []byte("ReEncrypt")):
		return event.ClassCrypto
	case bytes.HasPrefix(name, []byte("List")):
		return event.ClassList
	}
	return event.ClassOther
}
