// Package cloudtrail decodes AWS CloudTrail records of AWS Secrets Manager
// and AWS KMS, and the CloudTrail calls that change what is logged, into
// events.
//
// A record is one element of a CloudTrail delivery file's "Records" array
// (or the same object on its own line, in an array, or in a reshaped export
// whose eventTime is written with a space). Records of other services are
// skipped with the reason "service <eventSource>", CloudTrail Insights
// records with "cloudtrail insight".
//
// CloudTrail's own calls that can reduce logging (StopLogging, DeleteTrail,
// UpdateTrail, PutEventSelectors, PutInsightSelectors, and for CloudTrail
// Lake DeleteEventDataStore, StopEventDataStoreIngestion,
// UpdateEventDataStore) are events of class audit-config on the account and
// region's vault, provider aws-secretsmanager, whose object is the trail or
// event data store (kind path, its name or ARN as the request gives it) and
// whose Operation.Detail says what a successful call did, from the
// request's flags (e.g. "read management events (secret reads, decrypts)
// no longer logged"). Other CloudTrail calls are skipped with the reason
// "service cloudtrail.amazonaws.com".
//
// Normalization:
//   - Vault: ID "aws:<account>:<region>", Name "<account>/<region>", the
//     account being recipientAccountId (else userIdentity.accountId). A
//     reshaped record may lack one of the two, whose place stays empty; a
//     record without both is malformed.
//   - Object: the secret name (an ARN loses its random six-character
//     suffix) or the KMS key id (a resolved AWS::KMS::Key resource wins over
//     requestParameters.keyId, which may be an alias). BatchGetSecretValue
//     yields one event per secret named in secretIdList.
//   - Result: Status is the HTTP equivalent of the outcome, which CloudTrail
//     does not log: 200 for success, 401, 403, 404 and 429 for the errors
//     of those kinds, 0 for other errors. Reason is the errorCode.
//   - Time is zero when the record has no eventTime (reshaped exports).
//
// The decoder reads only identifiers and flags from requestParameters
// (secretId, versionId, versionStage, name, secretIdList, keyId,
// forceDeleteWithoutRecovery; for CloudTrail calls the trail or event data
// store and its selectors and settings) and never reads responseElements
// or errorMessage.
package cloudtrail

import (
	"bytes"
	"errors"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/event"
)

// Format is the CloudTrail format for the reader's registry.
var Format = record.Format{
	Name:   event.FormatCloudTrail,
	Detect: Detect,
	New:    func() record.Decoder { return NewDecoder() },
}

// Event sources that are vault accesses.
const (
	sourceSecretsManager = "secretsmanager.amazonaws.com"
	sourceKMS            = "kms.amazonaws.com"
)

// Detect reports whether v looks like a CloudTrail record: eventSource and
// eventName are present, with eventVersion, userIdentity, recipientAccountId
// or awsRegion beside them (reshaped exports drop some of these).
func Detect(v *fastjson.Value) bool {
	if v.Get("eventSource") == nil || v.Get("eventName") == nil {
		return false
	}
	return v.Get("eventVersion") != nil || v.Get("userIdentity") != nil ||
		v.Get("recipientAccountId") != nil || v.Get("awsRegion") != nil
}

// Decoder decodes the CloudTrail records of one stream. It reuses one event
// and interns repeated strings, so a record costs no allocation beyond its
// correlation id.
type Decoder struct {
	ev  event.Event
	in  record.Interner
	buf []byte
}

// NewDecoder returns a decoder for one stream.
func NewDecoder() *Decoder {
	return &Decoder{buf: make([]byte, 0, 128)}
}

var _ record.Decoder = (*Decoder)(nil)

// Flush does nothing: every record is complete on its own.
func (d *Decoder) Flush(record.Emit) {}

var errNoVault = errors.New(`missing fields "recipientAccountId" and "awsRegion"`)

// Decode normalizes one CloudTrail record; see the package documentation.
func (d *Decoder) Decode(v *fastjson.Value, loc event.Location, emit record.Emit) error {
	src, err := str(v, "eventSource", true)
	if err != nil {
		return err
	}
	var provider event.Provider
	var trail trailChange
	switch string(src) {
	case sourceSecretsManager:
		provider = event.ProviderAWSSecretsManager
	case sourceKMS:
		provider = event.ProviderAWSKMS
	case sourceCloudTrail:
		var ok bool
		if trail, ok = trailChanges[string(record.Str(v, "eventName"))]; !ok {
			return record.Skip(d.join("service ", src, "", nil))
		}
		// The change lands on the account and region whose secrets and
		// keys it stops recording.
		provider = event.ProviderAWSSecretsManager
	default:
		return record.Skip(d.join("service ", src, "", nil))
	}
	name, err := str(v, "eventName", true)
	if err != nil {
		return err
	}
	evType, err := str(v, "eventType", false)
	if err != nil {
		return err
	}
	if string(evType) == "AwsCloudTrailInsight" {
		return record.Skip("cloudtrail insight")
	}
	serviceEvent := string(evType) == "AwsServiceEvent"

	e := &d.ev
	e.Reset()
	e.Provider = provider
	e.Format = event.FormatCloudTrail
	e.Source = loc

	if t := v.Get("eventTime"); t != nil {
		b, err := t.StringBytes()
		if err != nil {
			return record.Invalid("eventTime", "a string")
		}
		ts, ok := record.ParseTime(b)
		if !ok || ts.IsZero() { // zero means no time
			return record.Invalid("eventTime", "an RFC 3339 time")
		}
		e.Time = ts
	}

	ui := v.Get("userIdentity")
	if ui != nil && ui.Type() != fastjson.TypeObject && ui.Type() != fastjson.TypeNull {
		return record.Invalid("userIdentity", "an object")
	}
	account, err := str(v, "recipientAccountId", false)
	if err != nil {
		return err
	}
	if len(account) == 0 {
		account = record.Str(ui, "accountId")
	}
	region, err := str(v, "awsRegion", false)
	if err != nil {
		return err
	}
	if len(account) == 0 && len(region) == 0 {
		return errNoVault
	}
	e.Vault.ID = d.join("aws:", account, ":", region)
	e.Vault.Name = d.join("", account, "/", region)

	e.Operation.Name = d.in.Bytes(name)
	params := v.Get("requestParameters")
	if trail.did != "" {
		e.Operation.Class = event.ClassAuditConfig
	} else if provider == event.ProviderAWSSecretsManager {
		e.Operation.Class = secretsManagerClass(name, serviceEvent, params)
	} else {
		e.Operation.Class = kmsClass(name, serviceEvent)
	}

	d.caller(v, ui, src, serviceEvent)

	e.IP, e.Host = record.ParseAddr(&d.in, record.Str(v, "sourceIPAddress"))
	e.UserAgent = d.in.Bytes(record.Str(v, "userAgent"))
	if id := record.Str(v, "requestID"); len(id) > 0 {
		e.CorrelationID = string(id)
	} else {
		e.CorrelationID = string(record.Str(v, "eventID"))
	}

	code, err := str(v, "errorCode", false)
	if err != nil {
		return err
	}
	e.Result = result(code)
	if len(code) > 0 {
		e.Result.Reason = d.in.Bytes(code)
	}

	if trail.did != "" {
		d.trailEvent(trail, params, e.Result.Outcome != event.OutcomeSuccess)
		emit(e)
		return nil
	}
	if provider == event.ProviderAWSKMS {
		e.Object.Kind = event.KindKey
		e.Object.Name = d.in.Bytes(kmsKey(v, params))
		emit(e)
		return nil
	}

	e.Object.Kind = event.KindSecret
	if string(name) == "BatchGetSecretValue" {
		if ids := params.GetArray("secretIdList"); len(ids) > 0 {
			for _, id := range ids {
				if id.Type() != fastjson.TypeString {
					return record.Invalid("requestParameters.secretIdList", "a list of strings")
				}
			}
			for _, id := range ids {
				b, _ := id.StringBytes()
				e.Object.Name = d.in.Bytes(secretName(b))
				emit(e)
			}
			return nil
		}
	}
	d.secretObject(v, params, serviceEvent)
	emit(e)
	return nil
}

// secretObject fills the object of a single-secret record.
func (d *Decoder) secretObject(v, params *fastjson.Value, serviceEvent bool) {
	o := &d.ev.Object
	id := record.Str(params, "secretId")
	if len(id) == 0 {
		id = record.Str(params, "name") // CreateSecret
	}
	if len(id) == 0 && serviceEvent {
		// Rotation, replication and deletion events name the secret here.
		extra := v.Get("additionalEventData")
		for _, k := range [...]string{"SecretId", "ARN", "Name"} {
			if id = record.Str(extra, k); len(id) > 0 {
				break
			}
		}
	}
	o.Name = d.in.Bytes(secretName(id))
	ver := record.Str(params, "versionId")
	if len(ver) == 0 {
		ver = record.Str(params, "versionStage")
	}
	o.Version = d.in.Bytes(ver)
}

// kmsKey returns the key a KMS record touched: the key id of the first
// AWS::KMS::Key resource that is a key ARN (the key as KMS resolved it, so
// that calls naming the key by alias or by id agree), else
// requestParameters.keyId, else the alias of an alias resource.
func kmsKey(v, params *fastjson.Value) []byte {
	var alias []byte
	for _, r := range v.GetArray("resources") {
		if string(record.Str(r, "type")) != "AWS::KMS::Key" {
			continue
		}
		name := keyName(record.Str(r, "ARN"))
		if !bytes.HasPrefix(name, []byte("alias/")) {
			if len(name) > 0 {
				return name
			}
		} else if alias == nil {
			alias = name
		}
	}
	if id := keyName(record.Str(params, "keyId")); len(id) > 0 {
		return id
	}
	return alias
}

// str returns the string at key. A value of another type is invalid; an
// absent or empty one is an error only when required.
func str(v *fastjson.Value, key string, required bool) ([]byte, error) {
	x := v.Get(key)
	if x == nil || x.Type() == fastjson.TypeNull {
		if required {
			return nil, record.Missing(key)
		}
		return nil, nil
	}
	b, err := x.StringBytes()
	if err != nil {
		return nil, record.Invalid(key, "a string")
	}
	if len(b) == 0 && required {
		return nil, record.Missing(key)
	}
	return b, nil
}

// join interns a+b+c+e, built in the decoder's scratch buffer.
func (d *Decoder) join(a string, b []byte, c string, e []byte) string {
	d.buf = append(d.buf[:0], a...)
	d.buf = append(d.buf, b...)
	d.buf = append(d.buf, c...)
	d.buf = append(d.buf, e...)
	return d.in.Bytes(d.buf)
}

// arnResource returns the resource part of an ARN (after the fifth colon),
// or nil when b is not an ARN.
func arnResource(b []byte) []byte {
	if !bytes.HasPrefix(b, []byte("arn:")) {
		return nil
	}
	rest := b
	for range 5 {
		i := bytes.IndexByte(rest, ':')
		if i < 0 {
			return nil
		}
		rest = rest[i+1:]
	}
	return rest
}

// secretName normalizes a secret id: an ARN
// "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf" becomes NAME;
// a name stays as it is.
func secretName(b []byte) []byte {
	res := arnResource(b)
	if res == nil {
		return b
	}
	name, ok := bytes.CutPrefix(res, []byte("secret:"))
	if !ok {
		return b
	}
	if i := bytes.LastIndexByte(name, '-'); i > 0 && len(name)-i-1 == 6 && alnum(name[i+1:]) {
		name = name[:i]
	}
	return name
}

// keyName normalizes a KMS key id: a key ARN becomes the key id, an alias
// ARN the alias name ("alias/x"); a key id or alias name stays as it is.
func keyName(b []byte) []byte {
	res := arnResource(b)
	if res == nil {
		return b
	}
	if id, ok := bytes.CutPrefix(res, []byte("key/")); ok {
		return id
	}
	if bytes.HasPrefix(res, []byte("alias/")) {
		return res
	}
	return b
}

func alnum(b []byte) bool {
	for _, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// result classifies a CloudTrail errorCode.
func result(code []byte) event.Result {
	if len(code) == 0 {
		return event.Result{Outcome: event.OutcomeSuccess, Status: 200}
	}
	s := bytes.TrimPrefix(code, []byte("Client."))
	s = bytes.TrimPrefix(s, []byte("Server."))
	s = bytes.TrimSuffix(s, []byte("Exception"))
	switch string(s) {
	case "AccessDenied", "UnauthorizedOperation":
		return event.Result{Outcome: event.OutcomeDenied, Status: 403}
	case "ResourceNotFound", "NotFound":
		return event.Result{Outcome: event.OutcomeNotFound, Status: 404}
	case "Throttling", "TooManyRequests", "RequestLimitExceeded":
		return event.Result{Outcome: event.OutcomeThrottled, Status: 429}
	case "UnrecognizedClient", "InvalidClientTokenId", "ExpiredToken",
		"IncompleteSignature", "InvalidSignature", "MissingAuthenticationToken",
		"SignatureDoesNotMatch":
		return event.Result{Outcome: event.OutcomeUnauthenticated, Status: 401}
	}
	if bytes.HasSuffix(s, []byte("NotFound")) { // TrailNotFound, EventDataStoreNotFound
		return event.Result{Outcome: event.OutcomeNotFound, Status: 404}
	}
	if bytes.Contains(s, []byte("NotAuthorized")) {
		return event.Result{Outcome: event.OutcomeDenied, Status: 403}
	}
	return event.Result{Outcome: event.OutcomeError}
}
