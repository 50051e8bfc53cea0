package gcpaudit

import (
	"testing"

	"vaultwatch/internal/auditlog/record/recordtest"
)

// TestGolden decodes each testdata/<case>/input.json and compares the events
// with want.json (go test -update rewrites it).
func TestGolden(t *testing.T) { recordtest.Golden(t, Format) }
