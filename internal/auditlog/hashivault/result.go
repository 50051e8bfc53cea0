package hashivault

import (
	"bytes"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
)

// result sets the outcome from the entry's error, the only place a Vault
// audit entry says how a request ended. The log has no HTTP status: Status
// is the one Vault answers with for that outcome. Reason is one of a few
// fixed phrases, never the error text, which may quote request input.
//
//   - no error: success (200) for a response entry, unknown for a request
//     entry whose response was not seen. A KV or cubbyhole read or list
//     whose response has no data (or, for KV v2, a version whose data is
//     null: deleted or destroyed) found nothing: not-found (404).
//   - "rate limit quota exceeded": throttled (429).
//   - "unsupported path", "no handler for route": not-found (404).
//   - on a login path, any other error is a refused login: denied, 400 for
//     "invalid credentials" (Vault's reply to a wrong password or secret
//     id), 403 for "permission denied", else 400 with reason "login failed".
//   - "invalid token", "missing client token": unauthenticated (401).
//   - "permission denied": denied (403) when the token was resolved (its
//     policies did not allow the request); unauthenticated (401) when it was
//     not. Vault 1.10 and later add "invalid token" for a bad token, but
//     older servers wrote only "permission denied" with an empty auth block.
//   - anything else: error (500; 405 for "unsupported operation", 503 when
//     sealed).
func (d *Decoder) result(ev *event.Event, e *entry, c classification) {
	r := &ev.Result
	err := e.err
	if len(err) == 0 {
		switch {
		case !e.response:
			r.Outcome = event.OutcomeUnknown
		case c.secretRead && foundNothing(e.resp, c.kvData):
			r.Outcome, r.Status, r.Reason = event.OutcomeNotFound, 404, "not found"
		default:
			r.Outcome, r.Status = event.OutcomeSuccess, 200
		}
		return
	}
	switch {
	case contains(err, "rate limit quota exceeded"):
		r.Outcome, r.Status, r.Reason = event.OutcomeThrottled, 429, "rate limit quota exceeded"
	case contains(err, "unsupported path") || contains(err, "no handler for route"):
		r.Outcome, r.Status, r.Reason = event.OutcomeNotFound, 404, "unsupported path"
	case c.login:
		r.Outcome = event.OutcomeDenied
		switch {
		case contains(err, "invalid credentials") || contains(err, "invalid username or password"):
			r.Status, r.Reason = 400, "invalid credentials"
		case contains(err, "permission denied"):
			r.Status, r.Reason = 403, "permission denied"
		default:
			r.Status, r.Reason = 400, "login failed"
		}
	case contains(err, "invalid token"):
		r.Outcome, r.Status, r.Reason = event.OutcomeUnauthenticated, 401, "invalid token"
	case contains(err, "missing client token"):
		r.Outcome, r.Status, r.Reason = event.OutcomeUnauthenticated, 401, "missing client token"
	case contains(err, "permission denied"):
		if resolved(e.auth) {
			r.Outcome, r.Status = event.OutcomeDenied, 403
		} else {
			r.Outcome, r.Status = event.OutcomeUnauthenticated, 401
		}
		r.Reason = "permission denied"
	case contains(err, "invalid credentials"):
		r.Outcome, r.Status, r.Reason = event.OutcomeDenied, 400, "invalid credentials"
	case contains(err, "unsupported operation"):
		r.Outcome, r.Status, r.Reason = event.OutcomeError, 405, "unsupported operation"
	case contains(err, "sealed"):
		r.Outcome, r.Status, r.Reason = event.OutcomeError, 503, "sealed"
	default:
		r.Outcome, r.Status, r.Reason = event.OutcomeError, 500, "error"
	}
}

// foundNothing reports whether a read's response carries no data: only the
// presence and nullness of data (and of KV v2's data.data) are looked at. A
// wrapped response keeps its data in the wrapping token: it found something.
func foundNothing(resp *fastjson.Value, kvData bool) bool {
	if resp == nil || resp.Get("wrap_info") != nil {
		return false
	}
	data := resp.Get("data")
	if data == nil || data.Type() == fastjson.TypeNull {
		return true
	}
	if kvData {
		if x := data.Get("data"); x != nil && x.Type() == fastjson.TypeNull {
			return true
		}
	}
	return false
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
