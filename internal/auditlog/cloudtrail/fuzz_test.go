package cloudtrail

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

// FuzzDecode feeds arbitrary records to Detect and Decode: they must never
// panic, and every event of an accepted record must be complete.
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
		for _, raw := range pantherRecords(f, dir) {
			f.Add([]byte(raw))
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
			if e.Time.IsZero() && v.Get("eventTime") != nil {
				t.Error("eventTime given but the time is zero")
			}
			if e.Format != event.FormatCloudTrail || (e.Provider != event.ProviderAWSSecretsManager && e.Provider != event.ProviderAWSKMS) {
				t.Errorf("format %q, provider %q", e.Format, e.Provider)
			}
			if !strings.HasPrefix(e.Vault.ID, "aws:") || len(e.Vault.ID) == len("aws::") {
				t.Errorf("vault id %q", e.Vault.ID)
			}
			if e.Operation.Name == "" || e.Operation.Class == "" || e.Result.Outcome == "" || e.Caller.Type == "" {
				t.Errorf("incomplete event %+v", e)
			}
			if (e.Result.Outcome == event.OutcomeSuccess) != (e.Result.Reason == "") {
				t.Errorf("outcome %q with reason %q", e.Result.Outcome, e.Result.Reason)
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
		if n == 0 {
			t.Error("no event for an accepted record")
		}
	})
}
