// Package record is the contract between the format-neutral reader
// (package auditlog) and the per-format decoders (azurekv, hashivault,
// cloudtrail, gcpaudit), plus the small helpers they share.
//
// The reader splits a stream into JSON records and parses each once with a
// reused fastjson.Parser; the format's Decoder reads fields from the parsed
// value and fills an event.Event. Decoders never see the stream and never
// keep a reference to the parsed value after Decode returns.
package record

import (
	"errors"
	"fmt"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/event"
)

// Emit receives a finished event. The event is valid only during the call:
// a receiver that keeps it must copy it (a struct copy is enough; strings are
// immutable and Policies is copied by the decoder per event).
type Emit func(*event.Event)

// Decoder turns the records of one format, one stream, into events. It is
// not safe for concurrent use: the reader makes one per stream.
type Decoder interface {
	// Decode normalizes one record, a top-level JSON object. It calls emit
	// for every event the record completes: usually one; none for a Vault
	// request entry held until its response arrives.
	//
	// It returns a *SkipError for a well-formed record that is not a vault
	// access (another AWS service, say): counted, not reported as malformed.
	// Any other error means the record is malformed; the error text names the
	// field and never quotes a value from the record.
	Decode(v *fastjson.Value, loc event.Location, emit Emit) error
	// Flush emits whatever the decoder still holds at the end of the
	// stream (unpaired Vault requests).
	Flush(emit Emit)
}

// RawDecoder is a Decoder that can also read some records from their bytes,
// without the parsed tree: a fast path for the common shape of its
// format. The reader tries it first on the records of a stream whose last
// record was of its format.
type RawDecoder interface {
	Decoder
	// DecodeRaw decodes rec, one record as the reader found it (valid
	// UTF-8), when it is a record the fast path is sure of, and reports
	// whether it was.
	//
	// ok=false: nothing was emitted, nothing is to be counted and err is
	// nil; the caller must parse rec and use Detect and Decode, as for any
	// record. ok=true: rec is a well-formed JSON object for which Detect
	// would say yes and Decode would emit the same events and return the
	// same error as DecodeRaw did; that error is a record problem like
	// Decode's (IsSkip applies).
	DecodeRaw(rec []byte, loc event.Location, emit Emit) (ok bool, err error)
}

// Format describes one log format.
type Format struct {
	Name event.Format
	// Detect reports whether v, a top-level JSON object, is a record of this
	// format. It must be cheap: it runs on records whose format is not yet
	// known, and on every record of a file whose formats mix.
	Detect func(v *fastjson.Value) bool
	// New returns a decoder for one stream.
	New func() Decoder
}

// SkipError marks a well-formed record that is not a vault access.
type SkipError struct {
	// Reason groups skipped records in the summary, e.g. "service
	// ec2.amazonaws.com". It must have few distinct values.
	Reason string
}

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Skip returns a *SkipError with the given reason.
func Skip(reason string) error { return &SkipError{Reason: reason} }

// IsSkip reports whether err marks a skipped record, and its reason.
func IsSkip(err error) (string, bool) {
	var s *SkipError
	if errors.As(err, &s) {
		return s.Reason, true
	}
	return "", false
}

// Missing returns the error for a required field that is absent or empty.
func Missing(field string) error {
	return fmt.Errorf("missing field %q", field)
}

// Invalid returns the error for a field whose value has the wrong shape. The
// value itself is never included: it may be secret.
func Invalid(field, want string) error {
	return fmt.Errorf("field %q is not %s", field, want)
}
