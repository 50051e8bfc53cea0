package app

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/store"
)

func TestParseMatcher(t *testing.T) {
	for in, want := range map[string]store.Matcher{
		"ip cidr 10.0.0.0/8":     {Field: "ip", Op: "cidr", Value: "10.0.0.0/8"},
		"upn = a@b.c":            {Field: "upn", Op: "=", Value: "a@b.c"},
		"vault_name=kv-pay":      {Field: "vault_name", Op: "=", Value: "kv-pay"},
		"vault_name!=kv-pay":     {Field: "vault_name", Op: "!=", Value: "kv-pay"},
		"upn=~.*@contoso\\.com":  {Field: "upn", Op: "=~", Value: ".*@contoso\\.com"},
		"object =~ db-.* prod.*": {Field: "object", Op: "=~", Value: "db-.* prod.*"},
	} {
		got, err := ParseMatcher(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", in, got, err, want)
		}
	}
	if _, err := ParseMatcher("just words"); err == nil {
		t.Error("no operator accepted")
	}
}

func TestSuppressCommands(t *testing.T) {
	data := t.TempDir()
	st := openStore(t, filepath.Join(data, "vaultwatch.db"))
	now := time.Now().UTC()
	a := &alert.Alert{ID: "vw-a", Type: alert.PrivilegedTokenUse, Severity: alert.SeverityHigh, StartTime: now.Add(-time.Hour), EndTime: now.Add(-time.Hour),
		Vault: alert.Vault{Provider: "hashicorp-vault", ID: "vault:root:kv-search/", Name: "kv-search"}, Count: 1}
	b := &alert.Alert{ID: "vw-b", Type: alert.PrivilegedTokenUse, Severity: alert.SeverityHigh, StartTime: now.Add(-time.Hour), EndTime: now.Add(-time.Hour),
		Vault: alert.Vault{Provider: "hashicorp-vault", ID: "vault:root:kv-pay/", Name: "kv-pay"}, Count: 1}
	a.Fill()
	b.Fill()
	if err := st.Commit(context.Background(), &store.Batch{Alerts: []*alert.Alert{a, b}, Now: now}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	run := func(o SuppressOptions) string {
		t.Helper()
		var out bytes.Buffer
		o.DataDir, o.Stdout = data, &out
		if err := Suppress(context.Background(), o); err != nil {
			t.Fatalf("%s: %v", o.Verb, err)
		}
		return out.String()
	}
	rule := SuppressOptions{Type: "privileged-token-use", Matchers: []string{"vault_name=kv-search"}, Reason: "benign-positive", Comment: "drills", Author: "ana"}
	sim := rule
	sim.Verb = "simulate"
	if out := run(sim); !strings.Contains(out, "of the 2 newest alerts, 1 would have been silenced") {
		t.Errorf("simulate: %s", out)
	}
	add := rule
	add.Verb = "add"
	out := run(add)
	id := strings.Fields(out)[1]
	if out := run(SuppressOptions{Verb: "list"}); !strings.Contains(out, id) || !strings.Contains(out, "enabled") || !strings.Contains(out, "vault_name = kv-search") {
		t.Errorf("list: %s", out)
	}
	run(SuppressOptions{Verb: "expire", Args: []string{id}})
	if out := run(SuppressOptions{Verb: "list"}); !strings.Contains(out, "expired") {
		t.Errorf("after expire: %s", out)
	}
	bad := rule
	bad.Verb, bad.Matchers = "add", []string{"ip cidr 10.0.0.0/33"}
	var sink bytes.Buffer
	bad.DataDir, bad.Stdout = data, &sink
	if err := Suppress(context.Background(), bad); err == nil {
		t.Error("a bad cidr was accepted")
	}
}

func TestRequestSamples(t *testing.T) {
	ts := startService(t, t.TempDir(), t.TempDir())
	defer ts.stop(t)
	admin, _, err := ts.Auth().CreateToken(context.Background(), "admin-cli", "admin", "", "admin")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RequestSamples(context.Background(), SampleOptions{Server: ts.URL(), Token: admin, Types: []string{"tor-access"}, Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "1 sample alert(s)") {
		t.Errorf("output %q", out.String())
	}
	if err := RequestSamples(context.Background(), SampleOptions{Server: ts.URL(), Token: ts.token, Stdout: &out}); err == nil {
		t.Error("a responder token made samples")
	}
}
