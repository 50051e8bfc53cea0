package export_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exporttest"
)

func TestIdempotencyKey(t *testing.T) {
	cases := exporttest.Cases()
	rec := cases["tor-access-new"]
	if got, want := rec.IdempotencyKey(), "vw1:alert:"+rec.Alert.ID+":v1:41"; got != want {
		t.Errorf("key %q, want %q", got, want)
	}
	// The same record sent again, even with its alert grown, keeps its key.
	again := rec
	again.Alert.Count = 99
	if again.IdempotencyKey() != rec.IdempotencyKey() {
		t.Error("key changed with the alert's body")
	}
	// Distinct records have distinct keys.
	seen := map[string]string{}
	for name, r := range cases {
		k := r.IdempotencyKey()
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s share key %s", name, other, k)
		}
		seen[k] = name
	}
	next := rec
	next.Seq++
	if next.IdempotencyKey() == rec.IdempotencyKey() {
		t.Error("two positions of the stream share a key")
	}
}

func TestFilter(t *testing.T) {
	tor := exporttest.TorAccess()            // medium, azure-keyvault:kv-payments-prod
	root := exporttest.PrivilegedTokenUse()  // high, vault:aB12c:kv-team/
	cross := exporttest.PrivilegedTokenUse() // a cross-vault alert
	cross.Severity = alert.SeverityLow
	cross.Vaults = []alert.Vault{{ID: "vault:aB12c:kv-ops/", Name: "ops"}}
	tests := []struct {
		name   string
		f      export.Filter
		a      alert.Alert
		passes bool
	}{
		{"empty passes all", export.Filter{}, tor, true},
		{"medium passes medium", export.Filter{Severities: []string{"medium"}}, tor, true},
		{"medium passes high", export.Filter{Severities: []string{"medium"}}, root, true},
		{"high drops medium", export.Filter{Severities: []string{"high"}}, tor, false},
		{"lowest of a list", export.Filter{Severities: []string{"high", "medium"}}, tor, true},
		{"medium drops low", export.Filter{Severities: []string{"medium"}}, cross, false},
		{"type", export.Filter{Types: []string{"tor-access"}}, tor, true},
		{"other type", export.Filter{Types: []string{"tor-access"}}, root, false},
		{"vault id", export.Filter{Vaults: []string{"azure-keyvault:kv-payments-prod"}}, tor, true},
		{"vault name", export.Filter{Vaults: []string{"team-a/kv-team"}}, root, true},
		{"one of the vaults", export.Filter{Vaults: []string{"ops"}}, cross, true},
		{"other vault", export.Filter{Vaults: []string{"ops"}}, tor, false},
		{"all lists must pass", export.Filter{Types: []string{"tor-access"}, Severities: []string{"high"}}, tor, false},
	}
	for _, tt := range tests {
		for _, kind := range []string{export.KindAlert, export.KindStatus, export.KindSnapshot} {
			r := export.Record{Kind: kind, Alert: tt.a}
			if got := tt.f.Match(r); got != tt.passes {
				t.Errorf("%s (%s): Match = %v", tt.name, kind, got)
			}
		}
	}
}

func TestFilterValidate(t *testing.T) {
	if err := (export.Filter{Severities: []string{"low", "high"}, Types: []string{"tor-access"}, Vaults: []string{"kv"}}).Validate(); err != nil {
		t.Fatal(err)
	}
	err := export.Filter{Severities: []string{"critical"}, Types: []string{"tor"}, Vaults: []string{""}}.Validate()
	for _, w := range []string{`"critical"`, `"tor"`, "empty vault"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate: %v, want it to name %s", err, w)
		}
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("404 Not Found")
	err := fmt.Errorf("send: %w", export.Permanent(base))
	if !errors.Is(err, export.ErrPermanent) || !errors.Is(err, base) {
		t.Errorf("%v: Is(ErrPermanent) %v, Is(base) %v", err, errors.Is(err, export.ErrPermanent), errors.Is(err, base))
	}
	if err.Error() != "send: 404 Not Found" {
		t.Errorf("message %q", err)
	}
	if export.Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	if errors.Is(base, export.ErrPermanent) {
		t.Error("a plain error is permanent")
	}
}

func TestSecret(t *testing.T) {
	const value = "hunter2-token"
	s := export.Secret(value)
	var sb strings.Builder
	l := slog.New(slog.NewJSONHandler(&sb, nil))
	l.Info("x", "token", s)
	b, _ := json.Marshal(struct{ T export.Secret }{s})
	var back struct{ T string }
	if err := json.Unmarshal(b, &back); err != nil || back.T != "<secret>" {
		t.Errorf("JSON %s", b)
	}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s), s.String(), sb.String(), back.T} {
		if strings.Contains(out, value) || !strings.Contains(out, "<secret>") {
			t.Errorf("secret shown: %s", out)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := export.ResolveSecret("bearer_token", "", file)
	if err != nil || string(got) != value {
		t.Errorf("ResolveSecret from file: %v", err)
	}
	if got, err := export.ResolveSecret("bearer_token", s, ""); err != nil || got != s {
		t.Errorf("ResolveSecret value: %v", err)
	}
	if _, err := export.ResolveSecret("bearer_token", s, file); err == nil || !strings.Contains(err.Error(), "exclusive") {
		t.Errorf("both set: %v", err)
	}
	if _, err := export.ResolveSecret("bearer_token", "", filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "bearer_token_file") {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := export.ResolveSecret("hmac_key", "", empty); err == nil {
		t.Error("empty file accepted")
	}
}
