package auditlog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
