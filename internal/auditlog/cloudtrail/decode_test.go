package cloudtrail

import (
	"testing"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record/recordtest"
	"vaultwatch/internal/event"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  string
		want bool
	}{
		{"full record", `{"eventVersion":"1.09","userIdentity":{},"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, true},
		{"version only", `{"eventVersion":"1.09","eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, true},
		{"identity only", `{"userIdentity":{"type":"IAMUser"},"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, true},
		{"reshaped", `{"eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","recipientAccountId":"123456789012"}`, true},
		{"no eventName", `{"eventVersion":"1.09","eventSource":"kms.amazonaws.com"}`, false},
		{"no eventSource", `{"eventVersion":"1.09","eventName":"Decrypt"}`, false},
		{"names alone", `{"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, false},
		{"azure", `{"time":"2024-04-03T14:03:10Z","category":"AuditEvent","operationName":"SecretGet","resourceId":"/SUBSCRIPTIONS/X"}`, false},
		{"gcp", `{"protoPayload":{"serviceName":"secretmanager.googleapis.com","methodName":"AccessSecretVersion"}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Detect(fastjson.MustParse(tc.rec)); got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDecodeRejects checks skipped and malformed records. Every record
// carries the canary value CANARY in the field at fault or beside it; no
// error may quote it.
func TestDecodeRejects(t *testing.T) {
	const base = `"eventVersion":"1.09","eventTime":"2024-03-14T09:00:00Z","awsRegion":"eu-west-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/CANARY"}`
	for _, tc := range []struct {
		name, rec string
		skip      string // the skip reason, or
		err       string // the malformed-record error
	}{
		{"other service", `{` + base + `,"eventSource":"sts.amazonaws.com","eventName":"AssumeRole"}`, "service sts.amazonaws.com", ""},
		{"ssm parameter", `{` + base + `,"eventSource":"ssm.amazonaws.com","eventName":"GetParameters","requestParameters":{"names":["CANARY"],"withDecryption":true}}`, "service ssm.amazonaws.com", ""},
		{"cloudtrail read", `{` + base + `,"eventSource":"cloudtrail.amazonaws.com","eventName":"GetTrailStatus","requestParameters":{"name":"CANARY"}}`, "service cloudtrail.amazonaws.com", ""},
		{"cloudtrail start", `{` + base + `,"eventSource":"cloudtrail.amazonaws.com","eventName":"StartLogging","requestParameters":{"name":"CANARY"}}`, "service cloudtrail.amazonaws.com", ""},
		{"insight", `{` + base + `,"eventSource":"kms.amazonaws.com","eventName":"Decrypt","eventType":"AwsCloudTrailInsight"}`, "cloudtrail insight", ""},
		{"no eventSource", `{` + base + `,"eventName":"Decrypt"}`, "", `missing field "eventSource"`},
		{"eventSource not a string", `{` + base + `,"eventSource":7,"eventName":"Decrypt"}`, "", `field "eventSource" is not a string`},
		{"no eventName", `{` + base + `,"eventSource":"kms.amazonaws.com","eventName":""}`, "", `missing field "eventName"`},
		{"bad eventTime", `{"eventTime":"CANARY","awsRegion":"eu-west-1","eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, "", `field "eventTime" is not an RFC 3339 time`},
		{"zero eventTime", `{"eventTime":"0001-01-01T00:00:00Z","awsRegion":"eu-west-1","eventSource":"kms.amazonaws.com","eventName":"Decrypt","userIdentity":{"arn":"CANARY"}}`, "", `field "eventTime" is not an RFC 3339 time`},
		{"eventTime not a string", `{"eventTime":1710406800,"awsRegion":"eu-west-1","eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, "", `field "eventTime" is not a string`},
		{"no vault", `{"eventVersion":"1.09","eventTime":"2024-03-14T09:00:00Z","userIdentity":{"type":"IAMUser","arn":"CANARY"},"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, "", `missing fields "recipientAccountId" and "awsRegion"`},
		{"userIdentity not an object", `{"eventTime":"2024-03-14T09:00:00Z","awsRegion":"eu-west-1","userIdentity":"CANARY","eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, "", `field "userIdentity" is not an object`},
		{"region not a string", `{"eventTime":"2024-03-14T09:00:00Z","awsRegion":["CANARY"],"recipientAccountId":"111122223333","eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, "", `field "awsRegion" is not a string`},
		{"errorCode not a string", `{` + base + `,"eventSource":"kms.amazonaws.com","eventName":"Decrypt","errorCode":{"x":"CANARY"}}`, "", `field "errorCode" is not a string`},
		{"secretIdList of non-strings", `{` + base + `,"eventSource":"secretsmanager.amazonaws.com","eventName":"BatchGetSecretValue","requestParameters":{"secretIdList":[{"CANARY":1}]}}`, "", `field "requestParameters.secretIdList" is not a list of strings`},
	} {
		t.Run(tc.name, func(t *testing.T) { recordtest.Rejected(t, Format, tc.rec, tc.skip, tc.err) })
	}
}

func TestSecretName(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-password-Xy12Ab": "prod/db-password",
		"arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:db-AbCdEf":           "db",
		"arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-password":             "db-password",
		"arn:aws:secretsmanager:eu-west-1:111122223333:secret:bad-suffix-Ab_dEf":       "bad-suffix-Ab_dEf",
		"arn:aws:secretsmanager:eu-west-1:111122223333:secret:-AbCdEf":                 "-AbCdEf",
		"prod/db-password":                 "prod/db-password",
		"prod/db-Xy12Ab":                   "prod/db-Xy12Ab",
		"arn:aws:secretsmanager:eu-west-1": "arn:aws:secretsmanager:eu-west-1",
		"arn:aws:s3:::bucket/key-AbCdEf":   "arn:aws:s3:::bucket/key-AbCdEf",
		"":                                 "",
	} {
		if got := string(secretName([]byte(in))); got != want {
			t.Errorf("secretName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyName(t *testing.T) {
	for in, want := range map[string]string{
		"arn:aws:kms:eu-west-1:111122223333:key/8f3b2a1c-4d5e-4f60-9a7b-1c2d3e4f5a6b": "8f3b2a1c-4d5e-4f60-9a7b-1c2d3e4f5a6b",
		"arn:aws:kms:eu-west-1:111122223333:alias/payments":                           "alias/payments",
		"alias/payments":                                            "alias/payments",
		"8f3b2a1c-4d5e-4f60-9a7b-1c2d3e4f5a6b":                      "8f3b2a1c-4d5e-4f60-9a7b-1c2d3e4f5a6b",
		"arn:aws:kms:eu-west-1:111122223333:custom-key-store/cks-1": "arn:aws:kms:eu-west-1:111122223333:custom-key-store/cks-1",
	} {
		if got := string(keyName([]byte(in))); got != want {
			t.Errorf("keyName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDecodeAllocs checks that a warm decoder allocates only the
// correlation id of a record.
func TestDecodeAllocs(t *testing.T) {
	var p fastjson.Parser
	v, err := p.Parse(benchRecord)
	if err != nil {
		t.Fatal(err)
	}
	d := NewDecoder()
	emit := func(*event.Event) {}
	allocs := testing.AllocsPerRun(100, func() {
		if err := d.Decode(v, event.Location{}, emit); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Errorf("Decode allocates %.1f times per record, want at most 1", allocs)
	}
}
