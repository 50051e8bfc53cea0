// Package testutil holds helpers shared by tests: finding the shared sample
// logs beside the project, and golden-file comparison.
package testutil

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Update makes golden tests rewrite their want files: go test ./... -update
var Update = flag.Bool("update", false, "rewrite golden files")

// Root returns the module root (the folder holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// Samples returns the folder of real access-log samples that sits beside the
// project (../shared/samples from the module root), or skips the test with
// a message when it is absent. VAULTWATCH_SAMPLES overrides the location.
func Samples(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VAULTWATCH_SAMPLES")
	if dir == "" {
		dir = filepath.Join(Root(t), "..", "shared", "samples")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("sample logs not found at %s (set VAULTWATCH_SAMPLES): conformance not checked", dir)
	}
	return dir
}

// ThreatIntel returns the folder of threat-intel lists beside the project
// (../shared/threatintel), or skips the test when it is absent.
func ThreatIntel(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("VAULTWATCH_THREATINTEL")
	if dir == "" {
		dir = filepath.Join(Root(t), "..", "shared", "threatintel")
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skipf("threat-intel lists not found at %s (set VAULTWATCH_THREATINTEL)", dir)
	}
	return dir
}

// Golden compares got with the file at path, or writes it with -update.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
