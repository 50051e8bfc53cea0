package file

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
)

// fingerprintSize is how many leading bytes of a file identify its content:
// a file replaced by another one that reuses its inode (while vaultwatch was
// stopped) starts with other bytes.
const fingerprintSize = 64

// position is a file's cursor value: where reading stands and what the file
// looked like, so that a restart resumes exactly there.
type position struct {
	// Offset is the next byte to read: in the file, or in the
	// decompressed stream of a .gz file.
	Offset int64 `json:"offset"`
	// Line is the line number of the byte at Offset, from 1.
	Line int64 `json:"line"`
	// FPLen and FP fingerprint the file's first FPLen bytes (at most
	// fingerprintSize): FNV-64a, in hex.
	FPLen int    `json:"fpLen,omitempty"`
	FP    string `json:"fp,omitempty"`
	// Path is where the file was last seen, for display.
	Path string `json:"path"`
	// Gzip marks a .gz file, read once; Done marks it read to its end.
	Gzip bool `json:"gzip,omitempty"`
	Done bool `json:"done,omitempty"`
}

func (p position) encode() string {
	b, err := json.Marshal(p)
	if err != nil {
		// A struct of strings, numbers and booleans always marshals.
		panic(err)
	}
	return string(b)
}

func decodePosition(v string) (position, error) {
	var p position
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return position{}, fmt.Errorf("not a file cursor: %w", err)
	}
	if p.Offset < 0 || p.Line < 0 || p.FPLen < 0 || p.FPLen > fingerprintSize {
		return position{}, fmt.Errorf("not a file cursor: out of range")
	}
	if p.Line == 0 {
		p.Line = 1
	}
	return p, nil
}

func fingerprint(b []byte) string {
	h := fnv.New64a()
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
