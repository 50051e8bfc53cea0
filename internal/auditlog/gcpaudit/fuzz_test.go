package gcpaudit

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"vaultwatch/internal/auditlog/record"
	"vaultwatch/internal/auditlog/record/recordtest"
	"vaultwatch/internal/event"
)

// FuzzDecode feeds arbitrary entries to Detect and Decode: they must never
// panic, and the event of an accepted entry must be complete.
func FuzzDecode(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*", "input.json"))
	for _, in := range inputs {
		for _, raw := range readRecords(f, in) {
			f.Add([]byte(raw))
		}
	}
	if dir := recordtest.SamplesDir(f); dir != "" {
		for _, file := range sampleFiles(f, dir) {
			for _, raw := range readRecords(f, file) {
				f.Add([]byte(raw))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p fastjson.Parser
		v, err := p.ParseBytes(data)
		if err != nil || !Detect(v) {
			return
		}
		n := 0
		err = NewDecoder().Decode(v, event.Location{File: "fuzz", Line: 1}, func(e *event.Event) {
			n++
			if e.Time.Location() != time.UTC {
				t.Errorf("time %v is not UTC", e.Time)
			}
			if e.Time.IsZero() && (v.Get("timestamp") != nil || v.Get("receiveTimestamp") != nil) {
				t.Error("a timestamp is given but the time is zero")
			}
			if e.Format != event.FormatGCPAudit || e.Provider != event.ProviderGCPSecretManager {
				t.Errorf("format %q, provider %q", e.Format, e.Provider)
			}
			if !strings.HasPrefix(e.Vault.ID, "gcp:") || e.Vault.Name == "" || e.Vault.ID != "gcp:"+e.Vault.Name {
				t.Errorf("vault %+v", e.Vault)
			}
			if e.Operation.Name == "" || e.Operation.Class == "" || e.Result.Outcome == "" || e.Caller.Type == "" {
				t.Errorf("incomplete event %+v", e)
			}
			if e.Object.Version != "" && e.Object.Name == "" {
				t.Errorf("version %q without a secret", e.Object.Version)
			}
			if e.IP.IsValid() && e.Host != "" {
				t.Errorf("both IP %v and host %q", e.IP, e.Host)
			}
		})
		if err != nil {
			if n != 0 {
				t.Errorf("%d events emitted before error %v", n, err)
			}
			if _, skip := record.IsSkip(err); !skip && !strings.HasPrefix(err.Error(), "missing field") && !strings.HasPrefix(err.Error(), "field ") {
				t.Errorf("unexpected error text %q", err)
			}
			return
		}
		if n != 1 {
			t.Errorf("%d events for an accepted entry, want 1", n)
		}
	})
}
