package gcpaudit

import (
	"testing"

	"vaultwatch/internal/auditlog/record/recordtest"
)

// benchEntry is an AccessSecretVersion data-access entry by a service
// account, as Cloud Logging writes it.
const benchEntry = `{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","status":{},"authenticationInfo":{"principalEmail":"payments-api@payments-prod-4821.iam.gserviceaccount.com","principalSubject":"serviceAccount:payments-api@payments-prod-4821.iam.gserviceaccount.com"},"requestMetadata":{"callerIp":"10.128.0.23","callerSuppliedUserAgent":"gl-python/3.11.8 grpc/1.62.1 gax/2.17.1 gapic/2.19.0 gccl/2.19.0,gzip(gfe)","requestAttributes":{"time":"2024-05-02T10:13:51.486470Z","auth":{}},"destinationAttributes":{}},"serviceName":"secretmanager.googleapis.com","methodName":"google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion","authorizationInfo":[{"resource":"projects/payments-prod-4821/secrets/db-password/versions/latest","permission":"secretmanager.versions.access","granted":true,"resourceAttributes":{"service":"secretmanager.googleapis.com","name":"projects/payments-prod-4821/secrets/db-password/versions/latest","type":"secretmanager.googleapis.com/SecretVersion"},"permissionType":"DATA_READ"}],"resourceName":"projects/payments-prod-4821/secrets/db-password/versions/latest","request":{"name":"projects/payments-prod-4821/secrets/db-password/versions/latest","@type":"type.googleapis.com/google.cloud.secretmanager.v1.AccessSecretVersionRequest"}},"insertId":"cz2ka7edq1fm","resource":{"type":"audited_resource","labels":{"service":"secretmanager.googleapis.com","method":"google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion","project_id":"payments-prod-4821"}},"timestamp":"2024-05-02T10:13:51.481262Z","severity":"INFO","logName":"projects/payments-prod-4821/logs/cloudaudit.googleapis.com%2Fdata_access","receiveTimestamp":"2024-05-02T10:13:52.117304Z"}`

// BenchmarkDecode measures parsing (with a reused parser) and decoding one
// entry.
func BenchmarkDecode(b *testing.B) { recordtest.BenchDecode(b, Format, []byte(benchEntry)) }
