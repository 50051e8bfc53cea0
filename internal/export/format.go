package export

import (
	"encoding/json"
	"fmt"
	"time"

	"vaultwatch/internal/alert"
)

// Format encodes records for a destination.
type Format interface {
	// Name is the format's configuration name: "native", "ocsf" or "cef".
	Name() string
	// Append appends the encoding of r to dst and returns the extended
	// slice: one line, no newline in it and none at its end. It fails
	// only on a record that cannot be encoded (see Record.Validate).
	Append(dst []byte, r *Record) ([]byte, error)
	// JSON reports whether Append writes one JSON object.
	JSON() bool
}

// Format names.
const (
	FormatNative = "native"
	FormatOCSF   = "ocsf"
	FormatCEF    = "cef"
)

// NewFormat returns the format named name ("" is native); productVersion is
// the vaultwatch release the OCSF and CEF encodings name.
func NewFormat(name, productVersion string) (Format, error) {
	switch name {
	case "", FormatNative:
		return Native{}, nil
	case FormatOCSF:
		return OCSF{ProductVersion: productVersion}, nil
	case FormatCEF:
		return CEF{ProductVersion: productVersion}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want native, ocsf or cef)", name)
}

// NativeSchema is the schema of the Native envelope. A change that a
// reader could trip on gets a new version.
const NativeSchema = "vaultwatch.export/v1"

// Native is vaultwatch's own JSON: a versioned envelope around the alert as
// the API serves it:
//
//	{"schema":"vaultwatch.export/v1","kind":"status","seq":42,
//	 "idempotency_key":"vw1:status:vw-...:v2:42","at":"...",
//	 "status":"in-progress","version":2,"change":{...},"alert":{...}}
type Native struct{}

var _ Format = Native{}

// Name returns "native".
func (Native) Name() string { return FormatNative }

// JSON returns true.
func (Native) JSON() bool { return true }

type nativeEnvelope struct {
	Schema         string        `json:"schema"`
	Kind           string        `json:"kind"`
	Seq            int64         `json:"seq"`
	IdempotencyKey string        `json:"idempotency_key"`
	At             time.Time     `json:"at"`
	Status         string        `json:"status,omitempty"`
	Version        int           `json:"version,omitempty"`
	SuppressedBy   string        `json:"suppressed_by,omitempty"`
	Change         *StatusChange `json:"change,omitempty"`
	SnapshotID     string        `json:"snapshot_id,omitempty"`
	Alert          *alert.Alert  `json:"alert"`
}

// Append appends r's envelope.
func (Native) Append(dst []byte, r *Record) ([]byte, error) {
	if err := r.Validate(); err != nil {
		return dst, err
	}
	b, err := json.Marshal(nativeEnvelope{
		Schema:         NativeSchema,
		Kind:           r.Kind,
		Seq:            r.Seq,
		IdempotencyKey: r.IdempotencyKey(),
		At:             r.At.UTC(),
		Status:         r.Status,
		Version:        r.Version,
		SuppressedBy:   r.SuppressedBy,
		Change:         r.Change,
		SnapshotID:     r.SnapshotID,
		Alert:          &r.Alert,
	})
	if err != nil {
		return dst, fmt.Errorf("record %d: %w", r.Seq, err)
	}
	return append(dst, b...), nil
}
