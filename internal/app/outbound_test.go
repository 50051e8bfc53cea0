package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/auth"
	"vaultwatch/internal/notify"
	"vaultwatch/internal/notify/webhook"
	"vaultwatch/internal/store"
)

// mailbox is a real SMTP server (go-smtp) on loopback that keeps what it
// receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []string
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

func (m *mailbox) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.msgs)
}

type mailSession struct {
	m  *mailbox
	to []string
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, "To-envelope: "+strings.Join(s.to, ",")+"\n"+string(b))
	s.m.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

// startMailbox serves SMTP on addr ("127.0.0.1:0" for any port).
func startMailbox(t *testing.T, addr string) (*mailbox, string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	m := &mailbox{}
	srv := smtp.NewServer(m)
	srv.Domain = "localhost"
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	t.Cleanup(func() { l.Close(); srv.Close(); <-done })
	return m, l.Addr().String()
}

// hookReceiver is a webhook endpoint that checks signatures.
type hookReceiver struct {
	mu     sync.Mutex
	bodies []string
	bad    int
}

func startHook(t *testing.T, key []byte) (*hookReceiver, string) {
	h := &hookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := webhook.Verify(key, r.Header.Get("X-Vaultwatch-Timestamp"), r.Header.Get("X-Vaultwatch-Signature"), b, time.Now(), 5*time.Minute); err != nil {
			h.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.bodies = append(h.bodies, string(b))
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL
}

func (h *hookReceiver) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func outboundConfig(t *testing.T, data, smtpAddr, hookURL, keyFile, exportFile string) ServeConfig {
	t.Helper()
	cfg, err := ParseServeConfig(fmt.Appendf(nil, `
listen: 127.0.0.1:0
data_dir: %q
notifications:
  base_url: http://vaultwatch.example.com
  smtp: {server: %q, tls: none, from: "vaultwatch <alerts@example.com>"}
  recipients:
    - {address: soc@example.com}
  webhooks:
    - {name: siem, type: generic, url: %q, secret_file: %q}
exports:
  - name: archive
    type: file
    file: {path: %q}
`, data, smtpAddr, hookURL, keyFile, exportFile))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func runService(t *testing.T, cfg ServeConfig) *testService {
	t.Helper()
	s, err := NewService(context.Background(), ServeOptions{Config: cfg, AdminPassword: "correct horse battery staple",
		NotifyBackoff: notify.Backoff{Initial: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.Auth().CreateToken(context.Background(), fmt.Sprintf("t-%d", time.Now().UnixNano()), auth.RoleResponder, "", "admin")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testService{Service: s, token: tok, cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- s.Run(ctx) }()
	return ts
}

func exportLines(t *testing.T, path string) []map[string]any {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("export line: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// TestNotificationsAndExport: a new alert reaches the mailbox, the signed
// webhook and the export file once each; a status change reaches the
// export; a silenced alert tells nobody.
func TestNotificationsAndExport(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "hook.key")
	os.WriteFile(key, []byte("hook-signing-secret\n"), 0o600)
	mb, smtpAddr := startMailbox(t, "127.0.0.1:0")
	hook, hookURL := startHook(t, []byte("hook-signing-secret"))
	exportFile := filepath.Join(dir, "export", "alerts.jsonl")
	ts := runService(t, outboundConfig(t, filepath.Join(dir, "data"), smtpAddr, hookURL, key, exportFile))
	defer ts.stop(t)

	as, err := ts.SampleAlerts(context.Background(), []alert.Type{alert.TorAccess})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the mail, the webhook and the export", func() bool {
		return mb.count() == 1 && hook.count() == 1 && len(exportLines(t, exportFile)) >= 1
	})
	mb.mu.Lock()
	msg := strings.ReplaceAll(mb.msgs[0], "=\r\n", "") // quoted-printable soft line breaks
	mb.mu.Unlock()
	for _, want := range []string{"To-envelope: soc@example.com", "[SAMPLE]", "http://vaultwatch.example.com/alerts/" + as[0].ID} {
		if !strings.Contains(msg, want) {
			t.Errorf("the mail lacks %q", want)
		}
	}
	if hook.bad > 0 || !strings.Contains(hook.bodies[0], as[0].ID) {
		t.Errorf("webhook: %d badly signed, body %.200s", hook.bad, hook.bodies[0])
	}

	// A status change is exported, and notifies nobody.
	if _, err := ts.Store().SetStatus(context.Background(), as[0].ID, store.StatusChange{Status: store.StatusResolved, By: "ana", Comment: "drill", At: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the status change in the export", func() bool {
		for _, l := range exportLines(t, exportFile) {
			if l["kind"] == "status" {
				return true
			}
		}
		return false
	})

	// A rule silences the next alert: stored, exported, nobody told.
	if _, err := ts.Store().CreateRule(context.Background(), store.Rule{Type: alert.DecoySecretAccess, Matchers: []store.Matcher{},
		Reason: "other", Author: "ana", StartsAt: time.Now().Add(-time.Minute), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := ts.ReloadRules(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.SampleAlerts(context.Background(), []alert.Type{alert.DecoySecretAccess}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the silenced alert in the export", func() bool { return len(exportLines(t, exportFile)) >= 3 })
	time.Sleep(1500 * time.Millisecond) // a round of the notifier, which must send nothing
	if mb.count() != 1 || hook.count() != 1 {
		t.Errorf("a silenced alert was notified: %d mails, %d webhooks", mb.count(), hook.count())
	}
}

// TestNotificationSurvivesRestart: the SMTP server is down, the service
// stops with the mail still queued, the server comes up, the service
// starts again: the mail is delivered, once.
func TestNotificationSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "hook.key")
	os.WriteFile(key, []byte("k"), 0o600)
	// A port with nothing listening.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	smtpAddr := l.Addr().String()
	l.Close()
	_, hookURL := startHook(t, []byte("k"))
	cfg := outboundConfig(t, filepath.Join(dir, "data"), smtpAddr, hookURL, key, filepath.Join(dir, "x.jsonl"))
	ts := runService(t, cfg)
	if _, err := ts.SampleAlerts(context.Background(), []alert.Type{alert.PrivilegedTokenUse}); err != nil {
		t.Fatal(err)
	}
	box := ts.Store().(store.Outbox)
	eventually(t, "a failed attempt", func() bool {
		due, _ := box.Due(context.Background(), time.Now().Add(time.Hour), 10)
		for _, it := range due {
			if it.Receiver == "email" && it.Attempts > 0 {
				return true
			}
		}
		return false
	})
	ts.stop(t)

	mb, _ := startMailbox(t, smtpAddr)
	ts = runService(t, cfg)
	defer ts.stop(t)
	eventually(t, "the mail after the restart", func() bool { return mb.count() == 1 })
	time.Sleep(500 * time.Millisecond)
	if mb.count() != 1 {
		t.Errorf("%d mails, want 1", mb.count())
	}
}
