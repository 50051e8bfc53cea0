package auditlog

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"vaultwatch/internal/event"
	"vaultwatch/internal/testutil"
)

// FuzzReader feeds arbitrary input through the whole intake: gzip and
// binary sniffing, CSV, the record scanner, JSON parsing, format sniffing
// and every decoder. It must never panic, and every event must be whole.
func FuzzReader(f *testing.F) {
	for _, r := range testutil.AzureRecords(3, 1) {
		f.Add(r)
	}
	vault := testutil.VaultEntries(4, 1)
	f.Add(bytes.Join(vault, []byte("\n")))
	f.Add([]byte(`{"records":[{"a":1},` + string(testutil.AzureRecords(1, 2)[0]) + `]}`))
	f.Add([]byte("[\n{\"a\":\n1}, 2, [{}]]"))
	f.Add([]byte("prefix: {\"type\":\"request\",\"request\":{\"id\":\"1\"}}\n"))
	f.Add([]byte("TimeGenerated [UTC],OperationName,ResourceId,CallerIPAddress,httpStatusCode_d\n2026-11-20T09:00:00Z,SecretGet,/SUBSCRIPTIONS/A/RESOURCEGROUPS/B/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/C,10.0.0.1,403\n"))
	root := testutil.Root(f)
	filepath.WalkDir(filepath.Join(root, "examples"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
	// The real samples, when they are beside the project.
	dir := os.Getenv("VAULTWATCH_SAMPLES")
	if dir == "" {
		dir = filepath.Join(root, "..", "shared", "samples")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var n int64
		r := NewReader(func(e *event.Event) {
			n++
			if e.Time.IsZero() || e.Vault.ID == "" || e.Operation.Class == "" || e.Result.Outcome == "" {
				t.Fatalf("incomplete event: %+v", e)
			}
		})
		r.ReadStream("fuzz", bytes.NewReader(data))
		st := r.Stats
		if st.Events != n {
			t.Fatalf("stats count %d events, %d emitted", st.Events, n)
		}
		if st.Malformed > st.Records.Load() {
			t.Fatalf("%d malformed of %d records", st.Malformed, st.Records.Load())
		}
		for _, p := range st.Problems {
			if p.Reason == "" {
				t.Fatal("a problem without a reason")
			}
		}
	})
}
