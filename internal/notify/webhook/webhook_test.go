package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/notify"
	"vaultwatch/internal/testutil"
)

const (
	testKey   = "whsec-0d9f2c7e41b8a365"
	urlSecret = "T0000SECRETPATH/B0000/xoxSECRET"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func testAlert() alert.Alert {
	a := alert.Alert{
		Type: alert.DecoySecretAccess, StartTime: t0, EndTime: t0.Add(3 * time.Minute),
		Vault:       alert.Vault{Provider: "azure-keyvault", ID: "azure-keyvault:kv-pay", Name: "kv-pay"},
		Explanation: "The decoy <!channel> & <http://evil.example|click> [here](http://evil.example) was read.",
		Count:       14,
		Entities: alert.Entities{
			IPs:       []alert.IP{{Address: "198.51.100.7", Classification: []string{"tor", "public"}}},
			ObjectIDs: []string{"0b7e2f6c-1111-2222-3333-444455556666"},
			UPNs:      []string{"mallory@example.com"},
		},
	}
	for i := range 12 {
		a.Evidence.Objects = append(a.Evidence.Objects, alert.Object{Kind: "secret", Name: fmt.Sprintf("db-password-%02d", i),
			First: t0, Last: t0.Add(time.Minute), Count: 1})
	}
	a.Evidence.Objects[0].Name = "<@U123>&amp"
	a.Fill()
	return a
}

func single() notify.Notification {
	a := testAlert()
	return notify.Notification{ID: "n-" + a.ID, Receiver: "chat", Alerts: []alert.Alert{a},
		URL: "https://vaultwatch.example.com/alerts/" + a.ID, CreatedAt: t0.Add(5 * time.Minute)}
}

func digest() notify.Notification {
	var alerts []alert.Alert
	for i, sev := range []alert.Severity{"high", "medium", "low"} {
		a := testAlert()
		a.Severity, a.ID, a.StartTime = sev, "", t0.Add(time.Duration(i)*time.Hour)
		a.EndTime = a.StartTime.Add(3 * time.Minute)
		a.Fill()
		alerts = append(alerts, a)
	}
	return notify.Notification{ID: "digest-1", Receiver: "chat", Alerts: alerts, Digest: true,
		URL: "https://vaultwatch.example.com/alerts", CreatedAt: t0.Add(6 * time.Hour)}
}

// receiver is an httptest webhook receiver that records requests and
// answers with the statuses it is given, in turn (200 when none is left).
type receiver struct {
	mu       sync.Mutex
	reqs     []*http.Request
	bodies   [][]byte
	statuses []int
	header   http.Header
	srv      *httptest.Server
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses, header: http.Header{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, req)
		r.bodies = append(r.bodies, body)
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		for k, v := range r.header {
			w.Header()[k] = v
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/services/" + urlSecret }

func newNotifier(t *testing.T, cfg Config) *Notifier {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.Type == Generic && cfg.Key.IsZero() {
		cfg.Key = notify.NewSecret(testKey)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0.Add(6 * time.Minute) }
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// verify is an implementation of the receiver's check independent of
// Sign and Verify.
func verify(key string, h http.Header, body []byte) bool {
	m := hmac.New(sha256.New, []byte(key))
	io.WriteString(m, h.Get("X-Vaultwatch-Timestamp")+".")
	m.Write(body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(h.Get("X-Vaultwatch-Signature")))
}

func TestGeneric(t *testing.T) {
	r := newReceiver(t)
	n := newNotifier(t, Config{Type: Generic, URL: notify.NewSecret(r.url())})
	note := single()
	if err := n.Notify(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	if len(r.reqs) != 1 {
		t.Fatalf("%d requests", len(r.reqs))
	}
	req, body := r.reqs[0], r.bodies[0]
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || req.URL.Path != "/services/"+urlSecret {
		t.Errorf("request %s %s %q", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	if req.Header.Get("X-Vaultwatch-Id") != note.ID || req.Header.Get("X-Vaultwatch-Timestamp") != fmt.Sprint(t0.Add(6*time.Minute).Unix()) {
		t.Errorf("headers %v", req.Header)
	}
	if !verify(testKey, req.Header, body) {
		t.Error("the signature does not verify")
	}
	if verify("another key", req.Header, body) || verify(testKey, req.Header, append(body, ' ')) {
		t.Error("the signature verifies with another key or body")
	}
	if err := Verify([]byte(testKey), req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature), body, t0.Add(7*time.Minute), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := Verify([]byte(testKey), req.Header.Get(HeaderTimestamp), req.Header.Get(HeaderSignature), body, t0.Add(time.Hour), 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify of an old request: %v", err)
	}
	var p struct {
		Version string        `json:"version"`
		ID      string        `json:"id"`
		Sample  *bool         `json:"sample"`
		Alerts  []alert.Alert `json:"alerts"`
		URL     string        `json:"url"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != "vaultwatch.webhook/v1" || p.ID != note.ID || p.Sample == nil || *p.Sample || p.URL != note.URL ||
		len(p.Alerts) != 1 || p.Alerts[0].ID != note.Alerts[0].ID || len(p.Alerts[0].Remediation) != 4 {
		t.Errorf("payload %s", body)
	}
}

// TestGolden pins the Slack, Teams and generic payloads; regenerate with
// -update and review the diff.
func TestGolden(t *testing.T) {
	for _, typ := range []Type{Generic, Slack, Teams} {
		for name, note := range map[string]notify.Notification{"alert": single(), "digest": digest()} {
			t.Run(string(typ)+"-"+name, func(t *testing.T) {
				body, err := Payload(typ, note, "https://vaultwatch.example.com")
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := json.Indent(&out, body, "", "  "); err != nil {
					t.Fatal(err)
				}
				out.WriteByte('\n')
				testutil.Golden(t, filepath.Join("testdata", string(typ)+"-"+name+".json"), out.Bytes())
			})
		}
	}
}

// TestSlackShape checks what Slack requires of the message.
func TestSlackShape(t *testing.T) {
	body, err := Payload(Slack, single(), "")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type, Text string
			} `json:"text"`
			Fields   []struct{ Type, Text string } `json:"fields"`
			Elements []map[string]any              `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, b := range m.Blocks {
		types = append(types, b.Type)
		if b.Text != nil && len([]rune(b.Text.Text)) > 3000 || len(b.Fields) > 10 {
			t.Errorf("block %s over Slack's limits", b.Type)
		}
	}
	if got := strings.Join(types, ","); got != "header,section,section,context,actions" {
		t.Errorf("blocks %s", got)
	}
	if m.Blocks[0].Text.Type != "plain_text" || len([]rune(m.Blocks[0].Text.Text)) > 150 {
		t.Errorf("header %+v", m.Blocks[0].Text)
	}
	if m.Text == "" || strings.Contains(m.Text, "<!channel>") {
		t.Errorf("fallback text %q", m.Text)
	}
	for _, b := range m.Blocks {
		texts := []string{}
		if b.Text != nil && b.Text.Type == "mrkdwn" {
			texts = append(texts, b.Text.Text)
		}
		for _, f := range b.Fields {
			texts = append(texts, f.Text)
		}
		for _, s := range texts {
			if strings.Contains(s, "<!") || strings.Contains(s, "<@") || strings.Contains(s, "<http") {
				t.Errorf("alert text makes a mention or link: %q", s)
			}
		}
	}
	if !strings.Contains(string(body), `&lt;!channel&gt; &amp; &lt;http://evil.example|click&gt;`) {
		t.Errorf("explanation not escaped: %s", body)
	}
	if !strings.Contains(string(body), "and 2 more") {
		t.Error("12 secrets: want 10 and 2 more")
	}
}

func TestTeamsShape(t *testing.T) {
	body, err := Payload(Teams, single(), "")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			Content     json.RawMessage `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "message" || len(m.Attachments) != 1 || m.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("envelope %s", body)
	}
	var card struct {
		Type    string           `json:"type"`
		Version string           `json:"version"`
		Body    []map[string]any `json:"body"`
		Actions []map[string]any `json:"actions"`
	}
	if err := json.Unmarshal(m.Attachments[0].Content, &card); err != nil {
		t.Fatal(err)
	}
	if card.Type != "AdaptiveCard" || card.Version != "1.4" || len(card.Body) < 4 || len(card.Actions) != 1 ||
		card.Actions[0]["type"] != "Action.OpenUrl" || card.Actions[0]["url"] != single().URL {
		t.Errorf("card %s", m.Attachments[0].Content)
	}
	if strings.Contains(string(body), "](http://evil") {
		t.Error("alert text makes a Markdown link")
	}
}

func TestStatusClassification(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		permanent  bool
		ok         bool
		after      time.Duration
	}{
		{200, "", false, true, 0},
		{202, "", false, true, 0},
		{204, "", false, true, 0},
		{301, "", true, false, 0},
		{400, "", true, false, 0},
		{401, "", true, false, 0},
		{403, "", true, false, 0},
		{404, "", true, false, 0},
		{410, "", true, false, 0},
		{413, "", true, false, 0},
		{408, "", false, false, 0},
		{429, "", false, false, 0},
		{429, "120", false, false, 2 * time.Minute},
		{429, t0.Add(6*time.Minute + 90*time.Second).Format(http.TimeFormat), false, false, 90 * time.Second},
		{429, "soon", false, false, 0},
		{503, "30", false, false, 30 * time.Second},
		{503, "99999999", false, false, 6 * time.Hour},
		{500, "", false, false, 0},
		{502, "", false, false, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.retryAfter), func(t *testing.T) {
			r := newReceiver(t, tt.status)
			if tt.retryAfter != "" {
				r.header.Set("Retry-After", tt.retryAfter)
			}
			n := newNotifier(t, Config{Type: Slack, URL: notify.NewSecret(r.url())})
			err := n.Notify(context.Background(), single())
			if tt.ok != (err == nil) || tt.permanent != notify.IsPermanent(err) {
				t.Fatalf("error %v: want ok %v, permanent %v", err, tt.ok, tt.permanent)
			}
			var ra *notify.RetryAfterError
			if got := errors.As(err, &ra); got != (tt.after > 0) || (got && ra.After != tt.after) {
				t.Errorf("Retry-After: %v, want %s", err, tt.after)
			}
			var se *StatusError
			if err != nil && (!errors.As(err, &se) || se.Status != tt.status || se.Body != fmt.Sprintf("answer %d", tt.status)) {
				t.Errorf("status error: %v", err)
			}
			if err != nil && strings.Contains(err.Error(), urlSecret) {
				t.Errorf("the error shows the URL: %v", err)
			}
		})
	}
}

// TestRetryOn5xx retries through the shared helper until the receiver
// accepts, with the same id each time.
func TestRetryOn5xx(t *testing.T) {
	r := newReceiver(t, 503, 500, 200)
	n := newNotifier(t, Config{Type: Generic, URL: notify.NewSecret(r.url())})
	now := t0
	b := notify.Backoff{Now: func() time.Time { return now }, Rand: func() float64 { return 0 },
		Sleep: func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil }}
	note := single()
	if err := notify.Retry(context.Background(), b, func() error { return n.Notify(context.Background(), note) }); err != nil {
		t.Fatal(err)
	}
	if len(r.reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(r.reqs))
	}
	for i, req := range r.reqs {
		if req.Header.Get(HeaderID) != note.ID || !bytes.Equal(r.bodies[i], r.bodies[0]) {
			t.Errorf("attempt %d differs from the first", i+1)
		}
	}
	if now.Sub(t0) != 30*time.Second {
		t.Errorf("waited %s, want 10s + 20s", now.Sub(t0))
	}
}

func TestTransportErrors(t *testing.T) {
	// Nothing listening: retryable.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	n := newNotifier(t, Config{Type: Teams, URL: notify.NewSecret("http://" + addr + "/hook/" + urlSecret)})
	err = n.Notify(context.Background(), single())
	if err == nil || notify.IsPermanent(err) || strings.Contains(err.Error(), urlSecret) {
		t.Errorf("connection refused: %v, want a retryable error without the URL", err)
	}

	// A receiver that does not answer in time: retryable.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	n = newNotifier(t, Config{Type: Slack, URL: notify.NewSecret(slow.URL + "/" + urlSecret), Timeout: 50 * time.Millisecond})
	err = n.Notify(context.Background(), single())
	if err == nil || notify.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), urlSecret) {
		t.Errorf("timeout: %v, want a retryable deadline error without the URL", err)
	}

	// A certificate that does not verify: permanent.
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tlsSrv.Config.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	n = newNotifier(t, Config{Type: Slack, URL: notify.NewSecret(tlsSrv.URL + "/" + urlSecret)})
	err = n.Notify(context.Background(), single())
	if !notify.IsPermanent(err) || strings.Contains(err.Error(), urlSecret) {
		t.Errorf("untrusted certificate: %v, want a permanent error without the URL", err)
	}
}

func TestNew(t *testing.T) {
	u := notify.NewSecret("https://hooks.slack.com/services/" + urlSecret)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"slack", Config{Name: "s", Type: Slack, URL: u}, ""},
		{"generic", Config{Name: "g", URL: u, Key: notify.NewSecret("k")}, ""},
		{"generic without key", Config{Name: "g", URL: u}, "signing secret"},
		{"no name", Config{Type: Teams, URL: u}, "no name"},
		{"bad type", Config{Name: "x", Type: "discord", URL: u}, `type "discord"`},
		{"no url", Config{Name: "x", Type: Slack}, "no url"},
		{"bad url", Config{Name: "x", Type: Slack, URL: notify.NewSecret("ftp://h/" + urlSecret)}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		case err != nil && strings.Contains(err.Error(), urlSecret):
			t.Errorf("%s: the error shows the URL: %v", tt.name, err)
		}
	}
}

// TestNoSecretInLogs: neither the HMAC key nor the URL's secret path
// shows in debug logs or errors.
func TestNoSecretInLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := newReceiver(t, 200, 403)
	cfg := Config{Type: Generic, URL: notify.NewSecret(r.url()), Key: notify.NewSecret(testKey), Logger: log}
	n := newNotifier(t, cfg)
	if err := n.Notify(context.Background(), single()); err != nil {
		t.Fatal(err)
	}
	err := n.Notify(context.Background(), single())
	if !notify.IsPermanent(err) {
		t.Fatalf("403: %v", err)
	}
	log.Error("delivery failed", "err", err, "config", cfg)
	out := buf.String() + fmt.Sprintf("%v %+v %s", cfg, cfg, err)
	for _, secret := range []string{testKey, urlSecret} {
		if strings.Contains(out, secret) {
			t.Errorf("%q shows:\n%s", secret, out)
		}
	}
	if !strings.Contains(buf.String(), `"msg":"webhook sent"`) {
		t.Errorf("no debug line:\n%s", buf.String())
	}
}

func TestSlackEscape(t *testing.T) {
	for in, want := range map[string]string{
		"a & b":             "a &amp; b",
		"<!here> <@U1>":     "&lt;!here&gt; &lt;@U1&gt;",
		"<http://x|y>":      "&lt;http://x|y&gt;",
		"plain *bold* _it_": "plain *bold* _it_",
		"&amp; already":     "&amp;amp; already",
		"":                  "",
	} {
		if got := SlackEscape(in); got != want {
			t.Errorf("SlackEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
