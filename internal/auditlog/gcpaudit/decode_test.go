package gcpaudit

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
		{"audit entry", `{"protoPayload":{"serviceName":"secretmanager.googleapis.com","methodName":"google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion"}}`, true},
		{"method only", `{"protoPayload":{"methodName":"google.cloud.secretmanager.v1.SecretManagerService.ListSecrets"}}`, true},
		{"service only", `{"protoPayload":{"serviceName":"compute.googleapis.com"}}`, true},
		{"empty payload", `{"protoPayload":{}}`, false},
		{"payload not an object", `{"protoPayload":"x"}`, false},
		{"text entry", `{"textPayload":"hello","logName":"projects/p/logs/syslog"}`, false},
		{"cloudtrail", `{"eventVersion":"1.09","eventSource":"kms.amazonaws.com","eventName":"Decrypt"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Detect(fastjson.MustParse(tc.rec)); got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDecodeRejects checks skipped and malformed entries. Every entry
// carries the canary value CANARY; no error may quote it.
func TestDecodeRejects(t *testing.T) {
	const sm = `"serviceName":"secretmanager.googleapis.com","methodName":"google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion","resourceName":"projects/p/secrets/CANARY/versions/1"`
	for _, tc := range []struct {
		name, rec string
		skip      string // the skip reason, or
		err       string // the malformed-entry error
	}{
		{"other service", `{"protoPayload":{"serviceName":"compute.googleapis.com","methodName":"v1.compute.instances.insert","resourceName":"projects/CANARY"}}`, "service compute.googleapis.com", ""},
		{"unknown service", `{"protoPayload":{"methodName":"CANARY.Get"}}`, "service unknown", ""},
		{"no payload", `{"logName":"projects/CANARY/logs/x"}`, "", `missing field "protoPayload"`},
		{"payload not an object", `{"protoPayload":["CANARY"]}`, "", `field "protoPayload" is not an object`},
		{"service not a string", `{"protoPayload":{"serviceName":{"CANARY":1},"methodName":"x"}}`, "", `field "protoPayload.serviceName" is not a string`},
		{"method not a string", `{"protoPayload":{"serviceName":"secretmanager.googleapis.com","methodName":["CANARY"]}}`, "", `field "protoPayload.methodName" is not a string`},
		{"no method", `{"protoPayload":{"serviceName":"secretmanager.googleapis.com","resourceName":"projects/CANARY"}}`, "", `missing field "protoPayload.methodName"`},
		{"resource not a string", `{"protoPayload":{"serviceName":"secretmanager.googleapis.com","methodName":"x.GetSecret","resourceName":7},"resource":{"labels":{"project_id":"CANARY"}}}`, "", `field "protoPayload.resourceName" is not a string`},
		{"bad timestamp", `{"protoPayload":{` + sm + `},"timestamp":"CANARY-CANARY-CANARY"}`, "", `field "timestamp" is not an RFC 3339 time`},
		{"zero timestamp", `{"protoPayload":{` + sm + `},"timestamp":"0001-01-01T00:00:00Z"}`, "", `field "timestamp" is not an RFC 3339 time`},
		{"timestamp not a string", `{"protoPayload":{` + sm + `},"timestamp":1714644672}`, "", `field "timestamp" is not a string`},
		{"bad request time", `{"protoPayload":{` + sm + `,"requestMetadata":{"requestAttributes":{"time":"CANARY"}}}}`, "", `field "protoPayload.requestMetadata.requestAttributes.time" is not an RFC 3339 time`},
		{"no project", `{"protoPayload":{"serviceName":"secretmanager.googleapis.com","methodName":"x.ListSecrets","resourceName":"organizations/CANARY"},"logName":"organizations/CANARY/logs/x"}`, "", `missing field "resource.labels.project_id"`},
	} {
		t.Run(tc.name, func(t *testing.T) { recordtest.Rejected(t, Format, tc.rec, tc.skip, tc.err) })
	}
}

func TestSecretOf(t *testing.T) {
	for _, tc := range []struct{ in, name, version string }{
		{"projects/p/secrets/db/versions/latest", "db", "latest"},
		{"projects/314159265358/secrets/db/versions/7", "db", "7"},
		{"projects/p/locations/europe-west1/secrets/db/versions/2", "db", "2"},
		{"projects/p/secrets/db", "db", ""},
		{"projects/p", "", ""},
		{"projects/p/secrets/", "", ""},
		{"projects/p/secrets", "", ""},
		{"", "", ""},
	} {
		name, version := secretOf([]byte(tc.in))
		if string(name) != tc.name || string(version) != tc.version {
			t.Errorf("secretOf(%q) = %q, %q; want %q, %q", tc.in, name, version, tc.name, tc.version)
		}
	}
}

func TestEmailType(t *testing.T) {
	for email, want := range map[string]event.IdentityType{
		"maria.lopez@example.com":                                           event.IdentityUser,
		"payments-api@payments-prod-4821.iam.gserviceaccount.com":           event.IdentityServicePrincipal,
		"314159265358-compute@developer.gserviceaccount.com":                event.IdentityServicePrincipal,
		"service-314159265358@gcp-sa-secretmanager.iam.gserviceaccount.com": event.IdentityProviderService,
		"service-account@example.com":                                       event.IdentityUser,
		"no-at-sign":                                                        event.IdentityUser,
	} {
		if got := emailType([]byte(email)); got != want {
			t.Errorf("emailType(%q) = %q, want %q", email, got, want)
		}
	}
}

// TestDecodeAllocs checks that a warm decoder allocates only the
// correlation id of an entry.
func TestDecodeAllocs(t *testing.T) {
	var p fastjson.Parser
	v, err := p.Parse(benchEntry)
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
		t.Errorf("Decode allocates %.1f times per entry, want at most 1", allocs)
	}
}
