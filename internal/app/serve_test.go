package app

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/source"
	"vaultwatch/internal/store"
	"vaultwatch/internal/testutil"
)

// testService starts the whole service in-process on a loopback port with
// a file source over dir, and returns it with an API token of role.
type testService struct {
	*Service
	token  string
	cancel context.CancelFunc
	done   chan error
}

func startService(t *testing.T, data, logs string) *testService {
	t.Helper()
	cfg, err := ParseServeConfig(fmt.Appendf(nil, `
listen: 127.0.0.1:0
data_dir: %q
sources:
  - name: logs
    type: file
    file:
      paths: [%q]
      poll: 20ms
  - name: ingest
    type: http
`, data, logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := NewService(ctx, ServeOptions{Config: cfg, AdminPassword: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Auth().CreateToken(ctx, fmt.Sprintf("test-%d", time.Now().UnixNano()), auth.RoleResponder, "", "admin")
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	ts := &testService{Service: s, token: tok, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- s.Run(rctx) }()
	return ts
}

// stop stops the service and waits for it.
func (ts *testService) stop(t *testing.T) {
	t.Helper()
	ts.cancel()
	select {
	case err := <-ts.done:
		if err != nil {
			t.Fatalf("service stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the service did not stop")
	}
}

func (ts *testService) get(t *testing.T, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL()+strings.TrimPrefix(path, "/"), nil)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode
}

// eventually polls f until it returns true or the deadline passes.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type alertList struct {
	Alerts []struct {
		Alert struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"alert"`
	} `json:"alerts"`
	Total int `json:"total"`
}

type eventList struct {
	Events []json.RawMessage `json:"events"`
	Next   string            `json:"next"`
}

func (ts *testService) countEvents(t *testing.T) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		var page eventList
		if code := ts.get(t, "/api/v1/events?limit=1000&from=2000-01-01T00:00:00Z&cursor="+cursor, &page); code != 200 {
			t.Fatalf("events: %d", code)
		}
		n += len(page.Events)
		if page.Next == "" {
			return n
		}
		cursor = page.Next
	}
}

// TestServeEndToEnd runs the service on a tailed folder: a Vault root-token
// call appended to a file becomes a stored alert, visible in the API; the
// health check is anonymous and the API is not.
func TestServeEndToEnd(t *testing.T) {
	data, logs := t.TempDir(), t.TempDir()
	example, err := os.ReadFile(filepath.Join(testutil.Root(t), "examples", "vault", "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	ts := startService(t, data, logs)
	defer ts.stop(t)

	resp, err := http.Get(ts.URL() + "healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Get(ts.URL() + "api/v1/alerts")
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous alerts: %v %v, want 401", resp.StatusCode, err)
	}
	resp.Body.Close()

	if err := os.WriteFile(filepath.Join(logs, "audit.log"), example, 0o644); err != nil {
		t.Fatal(err)
	}
	var list alertList
	eventually(t, "the privileged-token-use alert", func() bool {
		ts.get(t, "/api/v1/alerts", &list)
		return list.Total > 0
	})
	if list.Alerts[0].Alert.Type != "privileged-token-use" {
		t.Errorf("alert %+v, want privileged-token-use", list.Alerts[0])
	}
	if n := ts.countEvents(t); n != 3 {
		t.Errorf("%d events stored, want 3 (the example's 6 entries pair into 3)", n)
	}
}

// TestServeRestartProcessesOnce stops the service between two writes to a
// tailed file and finds every event stored once and every alert once.
func TestServeRestartProcessesOnce(t *testing.T) {
	data, logs := t.TempDir(), t.TempDir()
	recs := testutil.AzureRecords(3000, 7)
	path := filepath.Join(logs, "PT1H.json")
	write := func(rs [][]byte) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(append(bytes.Join(rs, []byte("\n")), '\n'))
		f.Close()
	}
	write(recs[:1000])
	ts := startService(t, data, logs)
	eventually(t, "the first 1,000 events", func() bool { return ts.countEvents(t) >= 1000 })
	write(recs[1000:2000]) // written while running: some may be stored before the stop
	ts.stop(t)

	write(recs[2000:])
	ts = startService(t, data, logs)
	defer ts.stop(t)
	eventually(t, "all 3,000 events", func() bool { return ts.countEvents(t) >= 3000 })
	time.Sleep(300 * time.Millisecond) // a chunk read twice would show up in the next batch
	if n := ts.countEvents(t); n != 3000 {
		t.Fatalf("%d events stored, want 3,000: every event once", n)
	}
	var list alertList
	ts.get(t, "/api/v1/alerts?limit=500", &list)
	seen := map[string]bool{}
	for _, a := range list.Alerts {
		if seen[a.Alert.ID] {
			t.Errorf("alert %s stored twice", a.Alert.ID)
		}
		seen[a.Alert.ID] = true
	}
}

// TestHelperServe is not a test: TestServeKilledMidStream runs the test
// binary again with VAULTWATCH_HELPER_SERVE set to a configuration file,
// and this serves it until the process is killed.
func TestHelperServe(t *testing.T) {
	cfgPath := os.Getenv("VAULTWATCH_HELPER_SERVE")
	if cfgPath == "" {
		t.Skip("a helper process for TestServeKilledMidStream")
	}
	cfg, err := LoadServeConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(context.Background(), ServeOptions{Config: cfg, AdminPassword: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfgPath+".addr", []byte(s.Addr()), 0o644)
	s.Run(context.Background()) // until killed
}

// TestServeKilledMidStream kills the service (SIGKILL, no shutdown) while
// it reads a growing file, starts it again, and finds every event stored
// once and every alert once.
func TestServeKilledMidStream(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the service in another process")
	}
	data, logs := t.TempDir(), t.TempDir()
	cfgPath := filepath.Join(t.TempDir(), "vaultwatch.yaml")
	os.WriteFile(cfgPath, fmt.Appendf(nil, "listen: 127.0.0.1:0\ndata_dir: %q\nsources:\n  - name: logs\n    type: file\n    file: {paths: [%q], poll: 20ms}\n", data, logs), 0o644)
	recs := testutil.AzureRecords(6000, 11)
	path := filepath.Join(logs, "PT1H.json")
	appendRecs := func(rs [][]byte) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(append(bytes.Join(rs, []byte("\n")), '\n'))
		f.Close()
	}
	appendRecs(recs[:2000])
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
	cmd.Env = append(os.Environ(), "VAULTWATCH_HELPER_SERVE="+cfgPath)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	defer func() {
		if t.Failed() {
			t.Logf("helper process output:\n%s", out.String())
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// Keep writing while it reads, and kill it in the middle.
	var stored int
	go func() {
		for i := 2000; i < 4000; i += 100 {
			appendRecs(recs[i : i+100])
			time.Sleep(5 * time.Millisecond)
		}
	}()
	eventually(t, "the helper's address", func() bool {
		_, err := os.Stat(cfgPath + ".addr")
		return err == nil
	})
	st := openStore(t, filepath.Join(data, "vaultwatch.db"))
	eventually(t, "some events stored", func() bool {
		pg, err := st.Events(context.Background(), store.EventQuery{Limit: 1000})
		stored = len(pg.Events)
		return err == nil && stored >= 500
	})
	cmd.Process.Kill()
	cmd.Wait()
	st.Close()
	appendRecs(recs[4000:])

	ts := startService(t, data, logs)
	defer ts.stop(t)
	eventually(t, "all 6,000 events", func() bool { return ts.countEvents(t) >= 6000 })
	time.Sleep(300 * time.Millisecond)
	if n := ts.countEvents(t); n != 6000 {
		t.Fatalf("%d events stored after a kill and a restart, want 6,000: every event once", n)
	}
	var list alertList
	ts.get(t, "/api/v1/alerts?limit=500", &list)
	seen := map[string]bool{}
	for _, a := range list.Alerts {
		if seen[a.Alert.ID] {
			t.Errorf("alert %s stored twice", a.Alert.ID)
		}
		seen[a.Alert.ID] = true
	}
}

// TestServeTLS serves the pages over TLS with a certificate made here: the
// session cookie is Secure and HSTS is sent.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cfg, err := ParseServeConfig(fmt.Appendf(nil, "listen: 127.0.0.1:0\ndata_dir: %q\ntls: {cert_file: %q, key_file: %q}\n", filepath.Join(dir, "data"), certFile, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(context.Background(), ServeOptions{Config: cfg, AdminPassword: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL %s", s.URL())
	}
	pool := x509.NewCertPool()
	pool.AddCert(must(x509.ParseCertificate(der)))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{"username": {"admin"}, "password": {"correct horse battery staple"}}
	req, _ := http.NewRequest("POST", s.URL()+"login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", strings.TrimSuffix(s.URL(), "/"))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login over TLS: %d", resp.StatusCode)
	}
	var secure bool
	for _, c := range resp.Cookies() {
		if c.Name == "vaultwatch_session" {
			secure = c.Secure && c.HttpOnly
		}
	}
	if !secure {
		t.Error("the session cookie is not Secure and HttpOnly under TLS")
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS header under TLS")
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestServeMetrics scrapes /metrics with a viewer token after events went
// through: the pipeline's counters and the sources' are there.
func TestServeMetrics(t *testing.T) {
	data, logs := t.TempDir(), t.TempDir()
	recs := testutil.AzureRecords(50, 1)
	recs = append(recs[:25:25], append([][]byte{[]byte("{oops")}, recs[25:]...)...)
	os.WriteFile(filepath.Join(logs, "PT1H.json"), append(bytes.Join(recs, []byte("\n")), '\n'), 0o644)
	ts := startService(t, data, logs)
	defer ts.stop(t)
	eventually(t, "the events", func() bool { return ts.countEvents(t) >= 50 })
	req, _ := http.NewRequest("GET", ts.URL()+"metrics", nil)
	req.Header.Set("Authorization", "Bearer "+ts.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"vaultwatch_pipeline_events_total 50", "vaultwatch_pipeline_malformed_records_total 1", `source="logs"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestServeSampleAlerts makes sample alerts through the API as an admin:
// one per type, stored like real ones and marked; a responder may not.
func TestServeSampleAlerts(t *testing.T) {
	ts := startService(t, t.TempDir(), t.TempDir())
	defer ts.stop(t)
	admin, _, err := ts.Auth().CreateToken(context.Background(), "admin-ci", auth.RoleAdmin, "", "admin")
	if err != nil {
		t.Fatal(err)
	}
	post := func(token, body string) int {
		req, _ := http.NewRequest("POST", ts.URL()+"api/v1/alerts/sample", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(ts.token, "{}"); code != http.StatusForbidden {
		t.Errorf("a responder made samples: %d", code)
	}
	if code := post(admin, `{"types":["nope"]}`); code != http.StatusBadRequest {
		t.Errorf("unknown type: %d", code)
	}
	if code := post(admin, "{}"); code != http.StatusCreated {
		t.Fatalf("samples: %d", code)
	}
	var list struct {
		Alerts []struct {
			Alert struct {
				Type   string `json:"type"`
				Title  string `json:"title"`
				Sample bool   `json:"sample"`
			} `json:"alert"`
		} `json:"alerts"`
		Total int `json:"total"`
	}
	ts.get(t, "/api/v1/alerts?limit=100", &list)
	if list.Total != len(alert.Catalogue()) {
		t.Fatalf("%d alerts stored, want one per type (%d)", list.Total, len(alert.Catalogue()))
	}
	for _, a := range list.Alerts {
		if !a.Alert.Sample || !strings.HasPrefix(a.Alert.Title, "[SAMPLE]") {
			t.Errorf("%s not marked as a sample", a.Alert.Type)
		}
	}
}

func TestSourceRates(t *testing.T) {
	var r rates
	src := &fakeSource{name: "logs"}
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	if got := r.rate("logs"); got != 0 {
		t.Errorf("rate before samples: %v", got)
	}
	for i := range 7 {
		src.records = int64(i * 500)
		r.sample([]source.Source{src}, t0.Add(time.Duration(i)*rateEvery))
	}
	if got := r.rate("logs"); got != 50 {
		t.Errorf("rate %v, want 50 records/s", got)
	}
}

type fakeSource struct {
	name    string
	records int64
}

func (f *fakeSource) Name() string                                         { return f.name }
func (f *fakeSource) Run(ctx context.Context, _ chan<- source.Chunk) error { <-ctx.Done(); return nil }
func (f *fakeSource) Status() source.Status                                { return source.Status{Name: f.name, Records: f.records} }
