package azurekv

import (
	"bytes"

	"vaultwatch/internal/event"
)

// Reasons for a call denied by the access check although its status says
// success.
const (
	reasonAccessPolicy = "isAccessPolicyMatch=false"
	reasonRBAC         = "isRbacAuthorized=false"
)

// maxDescription bounds a result description kept as the reason.
const maxDescription = 200

// result sets ev.Result. The HTTP status decides the outcome, else the
// result signature; resultType is ignored (always "Success"). A call that
// the access check refused (signature Forbidden, isAccessPolicyMatch or
// isRbacAuthorized false) is denied even when its status says success.
func (d *Decoder) result(ev *event.Event) {
	f := &d.f
	r := &ev.Result
	status, hasStatus := f.status.int()
	if hasStatus && status > 0 && status < 1000 {
		r.Status = status
	}
	sig := bytes.TrimSpace(f.signature)
	sigOutcome := signatureOutcome(sig)
	switch {
	case r.Status >= 200:
		r.Outcome = statusOutcome(r.Status)
	case len(sig) > 0:
		r.Outcome = sigOutcome
	default:
		r.Outcome = event.OutcomeUnknown
	}
	if len(sig) > 0 && sigOutcome != event.OutcomeSuccess {
		r.Reason = d.in.Bytes(sig)
	}
	if r.Outcome == event.OutcomeSuccess {
		apMatch, apOK := f.apMatch.bool()
		rbac, rbacOK := f.rbac.bool()
		switch {
		case sigOutcome == event.OutcomeDenied:
			r.Outcome = event.OutcomeDenied
		case apOK && !apMatch:
			r.Outcome = event.OutcomeDenied
			r.Reason = reasonAccessPolicy
		case rbacOK && !rbac:
			r.Outcome = event.OutcomeDenied
			r.Reason = reasonRBAC
		}
	}
	if r.Reason == "" && r.Outcome != event.OutcomeSuccess && len(sig) == 0 {
		if desc := bytes.TrimSpace(f.description); len(desc) <= maxDescription {
			r.Reason = d.in.Bytes(desc)
		}
	}
}

// statusOutcome maps an HTTP status of 200 or more to an outcome.
func statusOutcome(s int) event.Outcome {
	switch {
	case s < 400:
		return event.OutcomeSuccess
	case s == 401:
		return event.OutcomeUnauthenticated
	case s == 403:
		return event.OutcomeDenied
	case s == 404:
		return event.OutcomeNotFound
	case s == 429:
		return event.OutcomeThrottled
	}
	return event.OutcomeError
}

// signatureOutcome maps a result signature, the HTTP status text written
// with or without spaces ("NotFound", "Not Found"), to an outcome.
func signatureOutcome(sig []byte) event.Outcome {
	switch {
	case len(sig) == 0:
		return event.OutcomeUnknown
	case eqFoldNoSpace(sig, "OK"), eqFoldNoSpace(sig, "Accepted"), eqFoldNoSpace(sig, "Created"),
		eqFoldNoSpace(sig, "NoContent"):
		return event.OutcomeSuccess
	case eqFoldNoSpace(sig, "Forbidden"):
		return event.OutcomeDenied
	case eqFoldNoSpace(sig, "Unauthorized"):
		return event.OutcomeUnauthenticated
	case eqFoldNoSpace(sig, "NotFound"):
		return event.OutcomeNotFound
	case eqFoldNoSpace(sig, "TooManyRequests"):
		return event.OutcomeThrottled
	}
	return event.OutcomeError
}

// eqFoldNoSpace reports whether b equals s, ignoring ASCII case and the
// spaces in b.
func eqFoldNoSpace(b []byte, s string) bool {
	j := 0
	for _, c := range b {
		if c == ' ' {
			continue
		}
		if j >= len(s) {
			return false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		t := s[j]
		if 'A' <= t && t <= 'Z' {
			t += 'a' - 'A'
		}
		if c != t {
			return false
		}
		j++
	}
	return j == len(s)
}
