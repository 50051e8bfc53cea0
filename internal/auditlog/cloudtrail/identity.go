package cloudtrail

import (
	"bytes"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// caller fills the event's caller from userIdentity (ui, may be nil).
//
// Types: IAMUser, FederatedUser, SAMLUser, WebIdentityUser and
// IdentityCenterUser are users; Root is a privileged user; AssumedRole is a
// service principal unless the session is a person's (an IAM Identity
// Center role "AWSReservedSSO_*", or a session named by an email address);
// AWSService is the provider's service; AWSAccount is a service principal
// of another account. A record without a type is the provider's service
// when a service invoked it, anonymous otherwise.
//
// DisplayName is the user name, else a person's session name, else the
// role, else "root" for the root user, else the invoking service. UPN is
// the session or user name when it is an email address.
func (d *Decoder) caller(v, ui *fastjson.Value, src []byte, serviceEvent bool) {
	c := &d.ev.Caller
	typ := record.Str(ui, "type")
	arn := record.Str(ui, "arn")
	principalID := record.Str(ui, "principalId")
	account := record.Str(ui, "accountId")
	c.ARN = d.in.Bytes(arn)
	c.AccessKeyID = d.in.Bytes(record.Str(ui, "accessKeyId"))
	c.AccountID = d.in.Bytes(account)

	invoked := record.Str(ui, "invokedBy")
	if len(invoked) == 0 {
		invoked = record.Str(v, "invokedBy")
	}
	if len(invoked) == 0 && serviceEvent {
		invoked = src
	}
	c.InvokedBy = d.in.Bytes(invoked)

	userName := record.Str(ui, "userName")
	role := record.Str(ui, "sessionContext", "sessionIssuer", "userName")
	var session []byte
	if string(typ) == "AssumedRole" || string(typ) == "FederatedUser" {
		session = sessionName(principalID, arn)
		if len(role) == 0 {
			role = roleName(arn)
		}
	}

	human := false
	switch string(typ) {
	case "IAMUser", "FederatedUser", "SAMLUser", "WebIdentityUser", "IdentityCenterUser":
		c.Type = event.IdentityUser
		human = true
	case "Root":
		c.Type = event.IdentityUser
		c.Privileged = true
		human = true
	case "AssumedRole":
		if bytes.HasPrefix(role, []byte("AWSReservedSSO_")) || emailLike(session) {
			c.Type = event.IdentityUser
			human = true
		} else {
			c.Type = event.IdentityServicePrincipal
		}
	case "AWSService":
		c.Type = event.IdentityProviderService
	case "AWSAccount":
		if string(account) == "ANONYMOUS_PRINCIPAL" {
			c.Type = event.IdentityAnonymous
		} else {
			c.Type = event.IdentityServicePrincipal
		}
	case "", "Unknown":
		if len(invoked) > 0 {
			c.Type = event.IdentityProviderService
		} else {
			c.Type = event.IdentityAnonymous
		}
	default:
		if len(arn) > 0 || len(principalID) > 0 {
			c.Type = event.IdentityServicePrincipal
		} else {
			c.Type = event.IdentityAnonymous
		}
	}

	display := userName
	switch {
	case len(display) > 0:
	case human && len(session) > 0:
		display = session
	case len(role) > 0:
		display = role
	case string(typ) == "Root":
		display = []byte("root")
	default:
		display = invoked
	}
	c.DisplayName = d.in.Bytes(display)

	switch {
	case emailLike(session):
		c.UPN = d.in.Bytes(session)
	case emailLike(userName):
		c.UPN = d.in.Bytes(userName)
	}
}

// sessionName returns the session name of an assumed role or a federated
// user: the part of principalId after its colon ("AROA...:alice@example.com"),
// else the last element of an assumed-role ARN.
func sessionName(principalID, arn []byte) []byte {
	if i := bytes.IndexByte(principalID, ':'); i >= 0 && i < len(principalID)-1 {
		return principalID[i+1:]
	}
	res := arnResource(arn)
	if rest, ok := bytes.CutPrefix(res, []byte("assumed-role/")); ok {
		if i := bytes.IndexByte(rest, '/'); i >= 0 {
			return rest[i+1:]
		}
	}
	return nil
}

// roleName returns the role of an assumed-role ARN
// ("arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION").
func roleName(arn []byte) []byte {
	rest, ok := bytes.CutPrefix(arnResource(arn), []byte("assumed-role/"))
	if !ok {
		return nil
	}
	if i := bytes.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// emailLike reports whether b looks like an email address.
func emailLike(b []byte) bool {
	i := bytes.IndexByte(b, '@')
	if i <= 0 || bytes.IndexByte(b[i+1:], '@') >= 0 {
		return false
	}
	dot := bytes.LastIndexByte(b[i+1:], '.')
	return dot > 0 && dot < len(b[i+1:])-1
}
