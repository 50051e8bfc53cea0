package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"vaultwatch/internal/alert"
	"vaultwatch/internal/notify"
)

const (
	testUser     = "vaultwatch"
	testPassword = "correct horse battery staple 7f3a"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// testAlert is a filled decoy alert with 25 secrets, names that try to
// break headers and HTML.
func testAlert() alert.Alert {
	a := alert.Alert{
		Type: alert.DecoySecretAccess, StartTime: t0, EndTime: t0.Add(3 * time.Minute),
		Vault:       alert.Vault{Provider: "azure-keyvault", ID: "azure-keyvault:kv-pay", Name: "kv-pay"},
		Explanation: "The decoy <script>alert(1)</script> & friends were read.",
		Count:       30,
		Entities: alert.Entities{
			IPs:       []alert.IP{{Address: "198.51.100.7", Classification: []string{"tor", "public"}}},
			ObjectIDs: []string{"0b7e2f6c-1111-2222-3333-444455556666"},
			UPNs:      []string{"mallory@example.com"},
			AppIDs:    []string{"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
		},
	}
	a.Evidence.Operations = map[string]int{"SecretGet": 30}
	for i := range 25 {
		a.Evidence.Objects = append(a.Evidence.Objects, alert.Object{
			Kind: "secret", Name: fmt.Sprintf("db-password-%02d", i),
			First: t0.Add(time.Duration(i) * time.Second), Last: t0.Add(time.Duration(i)*time.Second + time.Minute), Count: 1,
		})
	}
	a.Evidence.Objects[0].Name = "<b>bold</b>&amp;"
	a.Fill()
	return a
}

func testNotification(a alert.Alert) notify.Notification {
	return notify.Notification{
		ID: "n-" + a.ID, Receiver: "soc@example.com", Alerts: []alert.Alert{a},
		URL: "https://vaultwatch.example.com/alerts/" + a.ID, CreatedAt: t0.Add(5 * time.Minute),
	}
}

// received is one mail the test server accepted.
type received struct {
	from, to string
	tls      bool
	data     []byte
}

// backend records the mails the test server accepts.
type backend struct {
	mu      sync.Mutex
	mails   []received
	rcptErr error // returned by RCPT when set
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, c: c}, nil
}

func (b *backend) got() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.mails...)
}

type session struct {
	b        *backend
	c        *smtp.Conn
	from, to string
	authed   bool
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(_, user, pass string) error {
		if user != testUser || pass != testPassword {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(check), nil
}

// loginServer is the server side of AUTH LOGIN (go-sasl has only the
// client): the user name (as the initial response or asked for), then the
// password.
type loginServer struct {
	check func(identity, user, pass string) error
	user  []byte
	step  int
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if resp == nil {
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		l.user, l.step = resp, 2
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check("", string(l.user), string(resp))
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.c.TLSConnectionState()
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.mails = append(s.b.mails, received{s.from, s.to, isTLS, b})
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// certs makes a self-signed certificate for 127.0.0.1 and the pool that
// trusts it.
func certs(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

type serverOpts struct {
	tls      bool // offer STARTTLS
	implicit bool // TLS from the start
	insecure bool // allow AUTH without TLS
}

// startServer runs a go-smtp server on l and returns its backend.
func startServer(t *testing.T, l net.Listener, cert tls.Certificate, o serverOpts) *backend {
	t.Helper()
	be := &backend{}
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = o.insecure
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = silent{}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}}
	if o.tls {
		srv.TLSConfig = tc
	}
	if o.implicit {
		l = tls.NewListener(l, tc)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		// Closing the listener ends Serve even if Close came before
		// Serve registered it.
		l.Close()
		srv.Close()
		<-done
	})
	return be
}

type silent struct{}

func (silent) Printf(string, ...any) {}
func (silent) Println(...any)        {}

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func newNotifier(t *testing.T, cfg Config) *Notifier {
	t.Helper()
	if cfg.From == "" {
		cfg.From = "vaultwatch <alerts@vaultwatch.example.com>"
	}
	if cfg.Username == "" {
		cfg.Username = testUser
	}
	if cfg.Password.IsZero() {
		cfg.Password = notify.NewSecret(testPassword)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// parsed is a received mail taken apart.
type parsed struct {
	msg        *mail.Message
	text, html string
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received mail does not parse: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	p := parsed{msg: m}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		// multipart.Reader decodes quoted-printable itself and drops the
		// header; read raw to check it is there.
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			p.text = string(body)
		case "text/html":
			p.html = string(body)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	if p.text == "" || p.html == "" {
		t.Fatalf("want a plain-text and an HTML part:\n%s", data)
	}
	return p
}

func TestDeliverStartTLS(t *testing.T) {
	cert, pool := certs(t)
	l := listen(t)
	be := startServer(t, l, cert, serverOpts{tls: true})
	n := newNotifier(t, Config{Addr: l.Addr().String(), TLSConfig: &tls.Config{RootCAs: pool}})

	a := testAlert()
	note := testNotification(a)
	if err := n.Notify(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	mails := be.got()
	if len(mails) != 1 {
		t.Fatalf("%d mails, want 1", len(mails))
	}
	got := mails[0]
	if !got.tls || got.from != "alerts@vaultwatch.example.com" || got.to != "soc@example.com" {
		t.Errorf("envelope: tls %v from %q to %q", got.tls, got.from, got.to)
	}
	p := parse(t, got.data)
	h := p.msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if subject != "[vaultwatch] HIGH: Decoy secret read on kv-pay" {
		t.Errorf("Subject %q", subject)
	}
	if h.Get("Message-ID") != MessageID(note.ID, "vaultwatch.example.com") || !strings.HasPrefix(h.Get("Message-ID"), "<") {
		t.Errorf("Message-ID %q", h.Get("Message-ID"))
	}
	if d, err := h.Date(); err != nil || !d.Equal(note.CreatedAt) {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Address != "alerts@vaultwatch.example.com" || from[0].Name != "vaultwatch" {
		t.Errorf("From %q: %v", h.Get("From"), err)
	}
	if h.Get("To") != "<soc@example.com>" {
		t.Errorf("To %q", h.Get("To"))
	}

	for _, want := range []string{
		"high: Decoy secret read", "Vault: kv-pay", "2026-11-20 09:00:00Z to 2026-11-20 09:03:00Z",
		"The decoy <script>alert(1)</script> & friends were read.",
		"198.51.100.7 (tor, public)", "Users: mallory@example.com", "Applications: 04b07795-8ddb-461a-bbee-02f9e1bf7b46",
		"<b>bold</b>&amp; (secret): 1 calls", "db-password-19", "and 5 more",
		"First step: " + alert.StepIdentify, a.Remediation[0].Commands[0], note.URL,
	} {
		if !strings.Contains(p.text, want) {
			t.Errorf("plain text lacks %q:\n%s", want, p.text)
		}
	}
	if strings.Contains(p.text, "db-password-20") || strings.Contains(p.text, alert.StepRespond) {
		t.Errorf("plain text shows more than 20 secrets or more than the first step:\n%s", p.text)
	}
	for _, want := range []string{
		"The decoy &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends were read.",
		"<td>&lt;b&gt;bold&lt;/b&gt;&amp;amp;</td>", "and 5 more", `<a href="` + note.URL + `">`,
		"First step: " + alert.StepIdentify,
	} {
		if !strings.Contains(p.html, want) {
			t.Errorf("HTML lacks %q:\n%s", want, p.html)
		}
	}
	if strings.Contains(p.html, "<script>") || strings.Contains(p.html, "<b>bold") {
		t.Errorf("HTML carries alert markup unescaped:\n%s", p.html)
	}
}

func TestDeliverImplicitTLS(t *testing.T) {
	cert, pool := certs(t)
	l := listen(t)
	be := startServer(t, l, cert, serverOpts{implicit: true})
	n := newNotifier(t, Config{Addr: l.Addr().String(), TLS: ImplicitTLS, Auth: AuthPlain, TLSConfig: &tls.Config{RootCAs: pool}})
	if err := n.Notify(context.Background(), testNotification(testAlert())); err != nil {
		t.Fatal(err)
	}
	if m := be.got(); len(m) != 1 || !m[0].tls {
		t.Fatalf("mails %+v, want one over TLS", m)
	}
}

func TestDeliverPlainLoopback(t *testing.T) {
	cert, _ := certs(t)
	l := listen(t)
	be := startServer(t, l, cert, serverOpts{insecure: true})
	for _, mech := range []string{AuthPlain, AuthLogin} {
		n := newNotifier(t, Config{Addr: l.Addr().String(), TLS: NoTLS, Auth: mech})
		if err := n.Notify(context.Background(), testNotification(testAlert())); err != nil {
			t.Fatalf("AUTH %s: %v", mech, err)
		}
	}
	if m := be.got(); len(m) != 2 || m[0].tls {
		t.Fatalf("mails %+v, want two in plain text", m)
	}
	wrong := newNotifier(t, Config{Addr: l.Addr().String(), TLS: NoTLS, Auth: AuthLogin, Password: notify.NewSecret("wrong")})
	if err := wrong.Notify(context.Background(), testNotification(testAlert())); !notify.IsPermanent(err) {
		t.Fatalf("AUTH LOGIN with a wrong password: %v, want a permanent error", err)
	}
}

func TestPermanentFailures(t *testing.T) {
	cert, pool := certs(t)
	roots := &tls.Config{RootCAs: pool}
	tests := []struct {
		name   string
		server serverOpts
		cfg    func(addr string) Config
		rcpt   error
		note   func(*notify.Notification)
	}{
		{"wrong password", serverOpts{tls: true}, func(addr string) Config {
			return Config{Addr: addr, TLSConfig: roots, Password: notify.NewSecret("wrong " + testPassword)}
		}, nil, nil},
		{"no STARTTLS offered", serverOpts{}, func(addr string) Config {
			return Config{Addr: addr, TLSConfig: roots}
		}, nil, nil},
		{"untrusted certificate", serverOpts{tls: true}, func(addr string) Config {
			return Config{Addr: addr}
		}, nil, nil},
		{"untrusted certificate, implicit TLS", serverOpts{implicit: true}, func(addr string) Config {
			return Config{Addr: addr, TLS: ImplicitTLS}
		}, nil, nil},
		{"recipient refused", serverOpts{tls: true}, func(addr string) Config {
			return Config{Addr: addr, TLSConfig: roots}
		}, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}, nil},
		{"bad recipient address", serverOpts{tls: true}, func(addr string) Config {
			return Config{Addr: addr, TLSConfig: roots}
		}, nil, func(n *notify.Notification) { n.Receiver = "not an address\r\nBcc: x@example.com" }},
		{"no alert", serverOpts{tls: true}, func(addr string) Config {
			return Config{Addr: addr, TLSConfig: roots}
		}, nil, func(n *notify.Notification) { n.Alerts = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := listen(t)
			be := startServer(t, l, cert, tt.server)
			be.rcptErr = tt.rcpt
			n := newNotifier(t, tt.cfg(l.Addr().String()))
			note := testNotification(testAlert())
			if tt.note != nil {
				tt.note(&note)
			}
			err := n.Notify(context.Background(), note)
			if !notify.IsPermanent(err) {
				t.Fatalf("error %v, want a permanent one", err)
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
			if m := be.got(); len(m) != 0 {
				t.Errorf("%d mails delivered", len(m))
			}
		})
	}
}

func TestTemporaryRecipientFailure(t *testing.T) {
	cert, pool := certs(t)
	l := listen(t)
	be := startServer(t, l, cert, serverOpts{tls: true})
	be.rcptErr = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	n := newNotifier(t, Config{Addr: l.Addr().String(), TLSConfig: &tls.Config{RootCAs: pool}})
	err := n.Notify(context.Background(), testNotification(testAlert()))
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("error %v, want a retryable one", err)
	}
}

// TestServerDownThenUp: the first attempt finds nothing listening (a
// retryable error); the retry helper waits, the server starts, and the
// mail is delivered once.
func TestServerDownThenUp(t *testing.T) {
	cert, pool := certs(t)
	l := listen(t)
	addr := l.Addr().String()
	l.Close()
	n := newNotifier(t, Config{Addr: addr, TLSConfig: &tls.Config{RootCAs: pool}})
	note := testNotification(testAlert())

	err := n.Notify(context.Background(), note)
	if err == nil || notify.IsPermanent(err) {
		t.Fatalf("with the server down: %v, want a retryable error", err)
	}

	var be *backend
	attempts := 0
	now := t0
	b := notify.Backoff{
		Now:  func() time.Time { return now },
		Rand: func() float64 { return 0 },
		Sleep: func(_ context.Context, d time.Duration) error {
			now = now.Add(d)
			if be == nil {
				l, err := net.Listen("tcp", addr)
				if err != nil {
					return err
				}
				be = startServer(t, l, cert, serverOpts{tls: true})
			}
			return nil
		},
	}
	err = notify.Retry(context.Background(), b, func() error {
		attempts++
		return n.Notify(context.Background(), note)
	})
	if err != nil {
		t.Fatal(err)
	}
	if attempts != 2 || len(be.got()) != 1 {
		t.Errorf("%d attempts, %d mails; want 2 attempts and 1 mail", attempts, len(be.got()))
	}
	// The message is the same for every attempt.
	again, err := Build(note, n.from, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, be.got()[0].data) {
		t.Error("a rebuilt message differs from the delivered one")
	}
}

func TestCancelledContext(t *testing.T) {
	// A server that accepts and never speaks: cancelling the context ends
	// the attempt, retryably.
	l := listen(t)
	conns := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			conns <- c
		}
	}()
	t.Cleanup(func() { l.Close() })
	n := newNotifier(t, Config{Addr: l.Addr().String()})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- n.Notify(ctx, testNotification(testAlert())) }()
	c := <-conns // connected, waiting for the greeting
	defer c.Close()
	cancel()
	err := <-errc
	if err == nil || notify.IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want a retryable error saying so", err)
	}
}

// TestRateLimitAndDigest runs five high alerts in a day through the rate
// limiter and the SMTP notifier: four mails, then one digest.
func TestRateLimitAndDigest(t *testing.T) {
	cert, pool := certs(t)
	l := listen(t)
	be := startServer(t, l, cert, serverOpts{tls: true})
	n := newNotifier(t, Config{Addr: l.Addr().String(), TLSConfig: &tls.Config{RootCAs: pool}, BaseURL: "https://vaultwatch.example.com/"})
	rl := notify.NewRateLimiter(nil, 0, 0)
	routes := notify.Routes{{Address: "soc@example.com", MinSeverity: alert.SeverityMedium}}

	now := t0
	for i := range 5 {
		a := testAlert()
		a.StartTime = t0.Add(time.Duration(i) * time.Minute)
		a.ID = ""
		a.Fill()
		for _, rcpt := range routes.Route(a) {
			if !rl.Allow(rcpt, a, now) {
				continue
			}
			note := testNotification(a)
			note.Receiver = rcpt
			if err := n.Notify(context.Background(), note); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(time.Minute)
	}
	if got := len(be.got()); got != 4 {
		t.Fatalf("%d mails, want 4", got)
	}
	if d := rl.Digests(now); len(d) != 0 {
		t.Fatalf("a digest due after 5 minutes: %+v", d)
	}
	digests := rl.Digests(t0.Add(2 * time.Hour))
	if len(digests) != 1 || len(digests[0].Alerts) != 1 {
		t.Fatalf("digests %+v, want one with one alert", digests)
	}
	d := digests[0]
	note := notify.Notification{ID: d.ID(), Receiver: d.Recipient, Alerts: d.Alerts, Digest: true,
		URL: "https://vaultwatch.example.com/alerts", CreatedAt: t0.Add(2 * time.Hour)}
	if err := n.Notify(context.Background(), note); err != nil {
		t.Fatal(err)
	}
	mails := be.got()
	if len(mails) != 5 {
		t.Fatalf("%d mails, want 5", len(mails))
	}
	p := parse(t, mails[4].data)
	subject, _ := new(mime.WordDecoder).DecodeHeader(p.msg.Header.Get("Subject"))
	if subject != "[vaultwatch] 1 alerts held back by the daily limit" {
		t.Errorf("digest Subject %q", subject)
	}
	link := "https://vaultwatch.example.com/alerts/" + d.Alerts[0].ID
	for _, body := range []string{p.text, p.html} {
		if !strings.Contains(body, link) || !strings.Contains(body, "Decoy secret read") || !strings.Contains(body, "https://vaultwatch.example.com/alerts") {
			t.Errorf("digest lacks its alert line or links:\n%s", body)
		}
	}
}

func TestHeaderInjection(t *testing.T) {
	a := testAlert()
	a.Title = "Evil\r\nBcc: victim@example.com\r\n\r\nbody"
	a.Vault.Name = "kv\nX-Injected: 1"
	note := testNotification(a)
	note.ID = "id\r\nX-Id-Injected: 1"
	from, _ := mail.ParseAddress("vaultwatch <alerts@example.com>")
	msg, err := Build(note, from, "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Bcc", "X-Injected", "X-Id-Injected"} {
		if v := m.Header.Get(k); v != "" {
			t.Errorf("header %s injected: %q", k, v)
		}
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if subject != "[vaultwatch] HIGH: Evil Bcc: victim@example.com body on kv X-Injected: 1" {
		t.Errorf("Subject %q", subject)
	}
	// Non-ASCII subjects are Q-encoded.
	a.Title = "Geheimnis gelesen — ä"
	msg, err = Build(testNotification(a), from, "")
	if err != nil {
		t.Fatal(err)
	}
	m, _ = mail.ReadMessage(bytes.NewReader(msg))
	if raw := m.Header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?q?") {
		t.Errorf("raw Subject %q, want Q-encoded", raw)
	}
}

func TestNew(t *testing.T) {
	pw := notify.NewSecret("pw")
	tests := []struct {
		name string
		cfg  Config
		want string // in the error; "" for none
	}{
		{"ok", Config{Addr: "smtp.example.com:587", From: "a@example.com", Username: "u", Password: pw}, ""},
		{"plain text to loopback", Config{Addr: "127.0.0.1:25", TLS: NoTLS, From: "a@example.com"}, ""},
		{"plain text to localhost", Config{Addr: "localhost:25", TLS: NoTLS, From: "a@example.com"}, ""},
		{"plain text elsewhere", Config{Addr: "smtp.example.com:25", TLS: NoTLS, From: "a@example.com"}, "loopback"},
		{"no port", Config{Addr: "smtp.example.com", From: "a@example.com"}, "smtp addr"},
		{"bad tls", Config{Addr: "smtp.example.com:587", TLS: "ssl", From: "a@example.com"}, `tls "ssl"`},
		{"bad auth", Config{Addr: "smtp.example.com:587", Auth: "cram-md5", From: "a@example.com"}, `auth "cram-md5"`},
		{"no password", Config{Addr: "smtp.example.com:587", Username: "u", From: "a@example.com"}, "without a password"},
		{"bad from", Config{Addr: "smtp.example.com:587", From: "nobody"}, "smtp from"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want one with %q", tt.name, err, tt.want)
		}
	}
	// Every problem at once.
	_, err := New(Config{Addr: "x", TLS: "ssl", From: "nobody"})
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("want three problems, got %v", err)
	}
}

// TestNoSecretInLogs sends a mail and fails one, with debug logs captured,
// and checks that the password shows nowhere: not in logs, errors, or the
// configuration printed.
func TestNoSecretInLogs(t *testing.T) {
	cert, pool := certs(t)
	l := listen(t)
	startServer(t, l, cert, serverOpts{tls: true})
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{Addr: l.Addr().String(), TLSConfig: &tls.Config{RootCAs: pool}, Logger: log}
	n := newNotifier(t, cfg)
	if err := n.Notify(context.Background(), testNotification(testAlert())); err != nil {
		t.Fatal(err)
	}
	cfg.Password = notify.NewSecret("wrong " + testPassword)
	bad := newNotifier(t, cfg)
	err := bad.Notify(context.Background(), testNotification(testAlert()))
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	log.Error("delivery failed", "err", err, "config", n.cfg, "password", n.cfg.Password)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%v %+v %#v %s", n.cfg, n.cfg, n.cfg.Password, err)
	for _, out := range []string{buf.String(), sb.String()} {
		if strings.Contains(out, testPassword) {
			t.Errorf("the password shows:\n%s", out)
		}
	}
	if !strings.Contains(buf.String(), `"msg":"mail sent"`) || !strings.Contains(buf.String(), `"component":"notify"`) {
		t.Errorf("no debug line for the mail sent:\n%s", buf.String())
	}
}

func TestQuotedPrintableLongLines(t *testing.T) {
	// A command far longer than a mail line survives the encoding.
	a := testAlert()
	long := "az monitor log-analytics query --analytics-query '" + strings.Repeat("x", 500) + "'"
	a.Remediation[0].Commands = []string{long}
	a.Title = strings.Repeat("秘密", 150) // 900 bytes, 2700 once Q-encoded
	from, _ := mail.ParseAddress("alerts@example.com")
	msg, err := Build(testNotification(a), from, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(msg), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("a line of %d bytes", len(line))
		}
	}
	p := parse(t, msg)
	if !strings.Contains(p.text, long) {
		t.Error("the long command is not in the text part")
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(p.msg.Header.Get("Subject"))
	if err != nil || !strings.HasPrefix(subject, "[vaultwatch] HIGH: 秘密秘密") || !strings.HasSuffix(subject, "…") {
		t.Errorf("folded subject %q: %v", subject, err)
	}
}
