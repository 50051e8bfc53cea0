package auditlog

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/event"
)

// Azure blob folders are read in time order, hour by hour across vaults;
// hidden entries are skipped; other files come first, by path.
func TestWalkOrder(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{
		"resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/B/y=2026/m=11/d=20/h=10/m=00/PT1H.json",
		"resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/A/y=2026/m=11/d=20/h=10/m=00/PT1H.json",
		"resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/B/y=2026/m=11/d=20/h=09/m=00/PT1H.json",
		"resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/A/y=2026/m=11/d=21/h=00/m=00/PT1H.json",
		"resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/A/y=2026/m=9/d=30/h=23/m=00/PT1H.json",
		"vault/audit.log",
		"vault/.audit.log.swp",
		".git/config",
	} {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("{}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := walk(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		rel = strings.Replace(rel, "resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/", "", 1)
		got = append(got, strings.TrimSuffix(rel, "/m=00/PT1H.json"))
	}
	want := []string{
		"vault/audit.log",
		"A/y=2026/m=9/d=30/h=23",
		"B/y=2026/m=11/d=20/h=09",
		"A/y=2026/m=11/d=20/h=10",
		"B/y=2026/m=11/d=20/h=10",
		"A/y=2026/m=11/d=21/h=00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// azureAt is an Azure Key Vault AuditEvent record of vault at t.
func azureAt(vault string, t time.Time) string {
	return fmt.Sprintf(`{"time":%q,"resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/%s","operationName":"SecretGet","category":"AuditEvent","resultType":"Success","resultSignature":"OK","callerIpAddress":"203.0.113.45","identity":{"claim":{"oid":"5f2b8c1e-7a4d-4e93-8b06-c1d2e3f4a5b6","appid":"0c3a9d1e-7a4d-4e93-8b06-c1d2e3f4a5b6","idtyp":"app"}},"properties":{"id":"https://%s.vault.azure.net/secrets/db-password","httpStatusCode":200}}`,
		t.Format(time.RFC3339Nano), strings.ToUpper(vault), vault)
}

// vaultAt is a Vault audit request or response entry of request id at t.
func vaultAt(id string, response bool, t time.Time) string {
	typ := "request"
	if response {
		typ = "response"
	}
	return fmt.Sprintf(`{"time":%q,"type":%q,"auth":{"accessor":"hmac-sha256:aa","display_name":"approle","entity_id":"e1","policies":["default","app"]},"request":{"id":%q,"operation":"read","mount_point":"kv/","mount_type":"kv","path":"kv/data/app/db","remote_address":"203.0.113.7"}}`,
		t.Format(time.RFC3339Nano), typ, id)
}

// Files that cover the same days (plain, gzipped, standard input) are read
// together, an hour at a time: every event of an hour comes before any of a
// later hour, whichever file holds it. A Vault request at the end of one file is still paired with its
// response at the start of the next.
func TestReadPathsTimeOrder(t *testing.T) {
	root := t.TempDir()
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	files := map[string]*strings.Builder{}
	add := func(name, rec string) {
		b := files[name]
		if b == nil {
			b = &strings.Builder{}
			files[name] = b
		}
		b.WriteString(rec + "\n")
	}
	wantVault := 0
	for h := range 72 {
		at := t0.Add(time.Duration(h) * time.Hour)
		add("azure/kv-a.jsonl", azureAt("kv-a", at.Add(10*time.Minute)))
		add("azure/kv-b.jsonl", azureAt("kv-b", at.Add(20*time.Minute)))
		// A rotated audit log: the request of hour 35 ends the first file,
		// its response starts the second.
		log := "vault/audit.log.1"
		if h > 35 {
			log = "vault/audit.log.2"
		}
		id := fmt.Sprintf("req-%02d", h)
		add(log, vaultAt(id, false, at.Add(30*time.Minute)))
		if h == 35 {
			log = "vault/audit.log.2"
		}
		add(log, vaultAt(id, true, at.Add(30*time.Minute+time.Second)))
		wantVault++
		if h >= 30 && h < 33 {
			blob := fmt.Sprintf("resourceId=/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV-C/y=2026/m=11/d=%02d/h=%02d/m=00/PT1H.json", 20+h/24, h%24)
			add(blob, azureAt("kv-c", at.Add(40*time.Minute)))
		}
	}
	// One file gzipped, and one vault's records on standard input.
	var stdin strings.Builder
	for h := range 72 {
		stdin.WriteString(azureAt("kv-d", t0.Add(time.Duration(h)*time.Hour+50*time.Minute)) + "\n")
	}
	for name, b := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data := []byte(b.String())
		if strings.HasSuffix(name, "kv-b.jsonl") {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			zw.Write(data)
			zw.Close()
			data = z.Bytes()
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var got []event.Event
	r := NewReader(func(e *event.Event) { got = append(got, *e) })
	r.Stdin = strings.NewReader(stdin.String())
	if err := r.ReadPaths(context.Background(), []string{root, "-"}); err != nil {
		t.Fatal(err)
	}
	if r.Stats.Malformed != 0 {
		t.Fatalf("malformed: %v", r.Stats.Problems)
	}
	perVault := map[string]int{}
	for i, e := range got {
		perVault[e.Vault.Name]++
		if i > 0 && e.Time.Truncate(time.Hour).Before(got[i-1].Time.Truncate(time.Hour)) {
			t.Fatalf("event %d (%s, %s) after one of a later hour (%s, %s)", i, e.Vault.Name, e.Time, got[i-1].Vault.Name, got[i-1].Time)
		}
	}
	want := map[string]int{"kv-a": 72, "kv-b": 72, "kv": wantVault, "kv-c": 3, "kv-d": 72}
	if fmt.Sprint(perVault) != fmt.Sprint(want) {
		t.Errorf("events per vault %v, want %v (each Vault request paired with its response)", perVault, want)
	}
	if r.Stats.Files != len(files)+1 {
		t.Errorf("files = %d, want %d", r.Stats.Files, len(files)+1)
	}
}

// A merge stopped by its context returns the context's error and leaves
// no file being read.
func TestReadPathsTimeOrderCancel(t *testing.T) {
	root := t.TempDir()
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, v := range []string{"kv-a", "kv-b", "kv-c"} {
		var b strings.Builder
		for h := range 48 {
			b.WriteString(azureAt(v, t0.Add(time.Duration(h)*time.Hour)) + "\n")
		}
		if err := os.WriteFile(filepath.Join(root, v+".jsonl"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	r := NewReader(func(e *event.Event) {
		if n++; n == 10 {
			cancel()
		}
	})
	if err := r.ReadPaths(ctx, []string{root}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n >= 3*48 {
		t.Errorf("%d events after the cancel at 10: the merge went on", n)
	}
}
