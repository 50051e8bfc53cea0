package gcpaudit

import (
	"encoding/json"
	"testing"

	"vaultwatch/internal/auditlog/record/recordtest"
)

func readRecords(tb testing.TB, path string) []json.RawMessage {
	return recordtest.ReadRecords(tb, path)
}

func decodeAll(tb testing.TB, file string, recs []json.RawMessage) []recordtest.Decoded {
	return recordtest.DecodeAll(tb, Format, file, recs)
}
