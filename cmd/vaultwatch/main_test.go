package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runMain(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRun(t *testing.T) {
	if code, _, e := runMain(); code != 2 || !strings.Contains(e, "Usage") {
		t.Errorf("no args: %d %q", code, e)
	}
	if code, _, e := runMain("frobnicate"); code != 2 || !strings.Contains(e, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %d %q", code, e)
	}
	if code, o, _ := runMain("version"); code != 0 || !strings.HasPrefix(o, "vaultwatch ") {
		t.Errorf("version: %d %q", code, o)
	}
	if code, _, e := runMain("scan", "--bogus", "x"); code != 2 || !strings.Contains(e, "bogus") {
		t.Errorf("bad flag: %d %q", code, e)
	}
	if code, _, e := runMain("scan", filepath.Join(t.TempDir(), "nope")); code != 1 || !strings.Contains(e, "no such file") {
		t.Errorf("missing path: %d %q", code, e)
	}
}

// Flags may follow the paths, and --strict turns malformed records into
// exit status 1.
func TestScanFlagsAfterPaths(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "log.json")
	rec := `{"time":"2026-11-20T09:00:04Z","category":"AuditEvent","operationName":"SecretGet","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV","callerIpAddress":"10.0.0.1","properties":{"httpStatusCode":200,"id":"https://kv.vault.azure.net/secrets/a"}}`
	if err := os.WriteFile(f, []byte(rec+"\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, e := runMain("scan", f, "--events", "-o", "jsonl", "--no-progress")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(e, "malformed: 1") {
		t.Fatalf("scan: %d\n%s\n%s", code, out, e)
	}
	if code, _, e := runMain("scan", f, "--strict"); code != 1 || !strings.Contains(e, "malformed records found (--strict)") {
		t.Errorf("strict: %d %q", code, e)
	}
}
