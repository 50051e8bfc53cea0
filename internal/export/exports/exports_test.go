package exports

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exporttest"
)

func decode(b []byte) ([]Config, error) {
	var cs []Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&cs); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return cs, ValidateAll(cs)
}

func TestConfigFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) < 5 {
		t.Fatalf("test files: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b = bytes.ReplaceAll(b, []byte("PLACEHOLDER_DIR"), []byte(t.TempDir()))
			first, _, _ := bytes.Cut(b, []byte("\n"))
			want, isErr := strings.CutPrefix(string(first), "# wantErr: ")
			cs, err := decode(b)
			switch {
			case isErr && err == nil:
				t.Fatalf("no error, want %q", want)
			case isErr && !strings.Contains(err.Error(), want):
				t.Fatalf("error %q, want %q", err, want)
			case !isErr && err != nil:
				t.Fatal(err)
			case !isErr:
				if len(cs) != 4 || cs[2].Kafka.SASL.PasswordFile == "" || cs[1].HTTP.Headers["X-Tenant"] != "acme" {
					t.Errorf("decoded %+v", cs)
				}
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	b := []byte(`
- name: siem
  type: http
  http: {url: https://siem.example.com/, bearer_token: tok-SECRET}
- name: lake
  type: kafka
  kafka: {brokers: ["k:9092"], topic: t, sasl: {mechanism: PLAIN, user: u, password: pw-SECRET}}
`)
	cs, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v", cs, cs, cs)
	y, _ := yaml.Marshal(cs)
	for _, s := range []string{out, string(y)} {
		if strings.Contains(s, "SECRET") {
			t.Errorf("a secret is shown: %s", s)
		}
	}
}

// TestOpenAndSend builds a file export and an HTTP export from YAML and
// sends through each the records its filter passes.
func TestOpenAndSend(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(nil, 1<<20)
		mu.Lock()
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		mu.Unlock()
	}))
	defer srv.Close()
	dir := t.TempDir()
	b := []byte(fmt.Sprintf(`
- name: archive
  type: file
  file: {path: %s}
- name: siem
  type: http
  format: cef
  filter: {severities: [high]}
  http: {url: %s, encoding: ndjson}
`, filepath.Join(dir, "alerts.jsonl"), srv.URL))
	cs, err := decode(b)
	if err != nil {
		t.Fatal(err)
	}
	recs := exporttest.Stream(10)
	for _, c := range cs {
		ex, err := Open(c, "1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		var batch []export.Record
		for _, r := range recs {
			if ex.Filter.Match(r) {
				batch = append(batch, r)
			}
		}
		if err := ex.Sink.Send(t.Context(), batch); err != nil {
			t.Fatal(err)
		}
		if err := ex.Sink.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
	if n := bytes.Count(got, []byte("\n")); n != 10 {
		t.Errorf("file holds %d records, want 10", n)
	}
	if len(lines) != 5 { // the privileged-token-use alerts are high
		t.Fatalf("siem got %d lines, want 5", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "CEF:0|vaultwatch|vaultwatch|1.2.3|privileged-token-use|") {
			t.Errorf("line %.80s", l)
		}
	}
}
