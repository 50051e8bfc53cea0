package cloudtrail

import (
	"testing"

	"vaultwatch/internal/auditlog/record/recordtest"
)

// benchRecord is a GetSecretValue call by a workload role, as CloudTrail
// delivers it.
const benchRecord = `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAQXYZ4EXAMPLEROL1:payments-api","arn":"arn:aws:sts::111122223333:assumed-role/payments-api-role/payments-api","accountId":"111122223333","accessKeyId":"ASIAQXYZ4EXAMPLEUJZD","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAQXYZ4EXAMPLEROL1","arn":"arn:aws:iam::111122223333:role/payments-api-role","accountId":"111122223333","userName":"payments-api-role"},"webIdFederationData":{},"attributes":{"creationDate":"2024-03-14T08:55:02Z","mfaAuthenticated":"false"}}},"eventTime":"2024-03-14T09:02:58Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","awsRegion":"eu-west-1","sourceIPAddress":"10.20.31.7","userAgent":"Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#5.10.209-198.858.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.51","requestParameters":{"secretId":"arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/payments/stripe-api-key-Qw98Er","versionStage":"AWSCURRENT"},"responseElements":null,"requestID":"1fb17c23-6a4b-4d7e-9a49-2f0c52d3e8a1","eventID":"5d0e8a57-31a2-4b41-b7de-0a4f9c86c2d4","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"secretsmanager.eu-west-1.amazonaws.com"},"vpcEndpointId":"vpce-0a1b2c3d4e5f60718"}`

// BenchmarkDecode measures parsing (with a reused parser) and decoding one
// record.
func BenchmarkDecode(b *testing.B) { recordtest.BenchDecode(b, Format, []byte(benchRecord)) }
