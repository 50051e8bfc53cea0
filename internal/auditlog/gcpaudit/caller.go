package gcpaudit

import (
	"bytes"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// caller fills the event's caller from protoPayload.authenticationInfo.
func (d *Decoder) caller(p *fastjson.Value) {
	c := &d.ev.Caller
	auth := p.Get("authenticationInfo")
	email := record.Str(auth, "principalEmail")
	switch {
	case len(email) > 0:
		c.PrincipalEmail = d.in.Bytes(email)
		c.DisplayName = c.PrincipalEmail
		c.Type = emailType(email)
	default:
		// Workload and workforce identity federation name a principal
		// without an email.
		subject := record.Str(auth, "principalSubject")
		if len(subject) == 0 {
			c.Type = event.IdentityAnonymous
			break
		}
		c.DisplayName = d.in.Bytes(subject)
		if bytes.Contains(subject, []byte("/workforcePools/")) {
			c.Type = event.IdentityUser
		} else {
			c.Type = event.IdentityServicePrincipal
		}
	}
	if chain := auth.GetArray("serviceAccountDelegationInfo"); len(chain) > 0 {
		first := record.Str(chain[0], "firstPartyPrincipal", "principalEmail")
		if len(first) == 0 {
			first = record.Str(chain[0], "principalSubject")
		}
		c.InvokedBy = d.in.Bytes(first)
	}
}

// emailType classifies a principal email: a Google-managed service agent
// (service-PROJECT_NUMBER@gcp-sa-SERVICE.iam.gserviceaccount.com), a
// service account (*.gserviceaccount.com), or a user.
func emailType(email []byte) event.IdentityType {
	at := bytes.LastIndexByte(email, '@')
	if at < 0 {
		return event.IdentityUser
	}
	local, domain := email[:at], email[at+1:]
	if !bytes.HasSuffix(domain, []byte("gserviceaccount.com")) {
		return event.IdentityUser
	}
	if bytes.HasPrefix(local, []byte("service-")) && bytes.HasPrefix(domain, []byte("gcp-sa-")) {
		return event.IdentityProviderService
	}
	return event.IdentityServicePrincipal
}

// grpcCodes are the gRPC status code names and HTTP equivalents, by code.
var grpcCodes = [...]struct {
	name string
	http int
}{
	{"OK", 200},
	{"CANCELLED", 499},
	{"UNKNOWN", 500},
	{"INVALID_ARGUMENT", 400},
	{"DEADLINE_EXCEEDED", 504},
	{"NOT_FOUND", 404},
	{"ALREADY_EXISTS", 409},
	{"PERMISSION_DENIED", 403},
	{"RESOURCE_EXHAUSTED", 429},
	{"FAILED_PRECONDITION", 400},
	{"ABORTED", 409},
	{"OUT_OF_RANGE", 400},
	{"UNIMPLEMENTED", 501},
	{"INTERNAL", 500},
	{"UNAVAILABLE", 503},
	{"DATA_LOSS", 500},
	{"UNAUTHENTICATED", 401},
}

// Codes that have an outcome of their own.
const (
	codeOK               = 0
	codeNotFound         = 5
	codePermissionDenied = 7
	codeResourceExhaust  = 8
	codeUnauthenticated  = 16
)

// result classifies protoPayload.status; a permission that authorizationInfo
// says was not granted makes the call denied whatever the status.
func result(p *fastjson.Value) event.Result {
	code, _ := record.Int(p, "status", "code")
	for _, a := range p.GetArray("authorizationInfo") {
		if granted, ok := record.Bool(a, "granted"); ok && !granted {
			code = codePermissionDenied
			break
		}
	}
	var r event.Result
	switch code {
	case codeOK:
		r.Outcome = event.OutcomeSuccess
	case codePermissionDenied:
		r.Outcome = event.OutcomeDenied
	case codeNotFound:
		r.Outcome = event.OutcomeNotFound
	case codeUnauthenticated:
		r.Outcome = event.OutcomeUnauthenticated
	case codeResourceExhaust:
		r.Outcome = event.OutcomeThrottled
	default:
		r.Outcome = event.OutcomeError
	}
	if code >= 0 && code < len(grpcCodes) {
		r.Status = grpcCodes[code].http
		if code != codeOK {
			r.Reason = grpcCodes[code].name
		}
	}
	return r
}
