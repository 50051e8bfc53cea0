// Package email sends notifications by SMTP: STARTTLS (required unless
// disabled for a loopback server) or implicit TLS, AUTH PLAIN or LOGIN,
// and a multipart/alternative mail (plain text and HTML) built from the
// alert: its essentials, the secrets touched, the first response step and
// a link to its page. A retried mail has the same Message-ID.
package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"vaultwatch/internal/notify"
)

// TLSMode is how the connection to the SMTP server is protected.
type TLSMode string

// TLS modes.
const (
	// StartTLS connects in plain text and upgrades with STARTTLS, which the
	// server must offer (port 587 or 25). The default.
	StartTLS TLSMode = "starttls"
	// ImplicitTLS speaks TLS from the start (port 465).
	ImplicitTLS TLSMode = "tls"
	// NoTLS sends in plain text; allowed only to a loopback address.
	NoTLS TLSMode = "none"
)

// Auth mechanisms.
const (
	AuthPlain = "plain"
	AuthLogin = "login"
)

// DefaultTimeout bounds one delivery attempt when the context does not.
const DefaultTimeout = 30 * time.Second

// Config is an SMTP notifier's configuration.
type Config struct {
	// Addr is the server, host:port.
	Addr string
	TLS  TLSMode // default StartTLS
	// TLSConfig adds to the TLS settings (a CA pool, say); nil uses the
	// system roots and Addr's host as the server name.
	TLSConfig *tls.Config
	// Username and Password authenticate (no authentication when
	// Username is empty); Auth is AuthPlain (default) or AuthLogin.
	Username string
	Password notify.Secret
	Auth     string
	// From is the sender, e.g. "vaultwatch <vaultwatch@example.com>".
	From string
	// HelloName is the name given in EHLO; default "localhost".
	HelloName string
	// BaseURL, when set, links each alert of a digest to its page.
	BaseURL string
	// Timeout bounds one attempt; default DefaultTimeout.
	Timeout time.Duration
	// Logger receives a debug line per mail sent; default slog.Default().
	Logger *slog.Logger
}

// Notifier sends notifications by SMTP. Safe for concurrent use: each
// Notify opens its own connection.
type Notifier struct {
	cfg  Config
	from *mail.Address
	log  *slog.Logger
}

var _ notify.Notifier = (*Notifier)(nil)

// New checks cfg and returns its notifier.
func New(cfg Config) (*Notifier, error) {
	var errs []error
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		errs = append(errs, fmt.Errorf("smtp addr %q: %w", cfg.Addr, err))
	}
	if cfg.TLS == "" {
		cfg.TLS = StartTLS
	}
	switch cfg.TLS {
	case StartTLS, ImplicitTLS:
	case NoTLS:
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			errs = append(errs, fmt.Errorf("smtp tls %q is allowed only to a loopback address, not %q", NoTLS, host))
		}
	default:
		errs = append(errs, fmt.Errorf("smtp tls %q: want %s, %s or %s", cfg.TLS, StartTLS, ImplicitTLS, NoTLS))
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthPlain
	}
	if cfg.Auth != AuthPlain && cfg.Auth != AuthLogin {
		errs = append(errs, fmt.Errorf("smtp auth %q: want %s or %s", cfg.Auth, AuthPlain, AuthLogin))
	}
	if cfg.Username != "" && cfg.Password.IsZero() {
		errs = append(errs, errors.New("smtp: a username without a password"))
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		errs = append(errs, fmt.Errorf("smtp from %q: %w", cfg.From, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.HelloName == "" {
		cfg.HelloName = "localhost"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = host
	}
	cfg.TLSConfig = tc
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{cfg: cfg, from: from, log: log.With("component", "notify", "notifier", "email")}, nil
}

// Name returns "email".
func (*Notifier) Name() string { return "email" }

// Notify sends n to n.Receiver, an e-mail address. See notify.Notifier
// for the contract; permanent errors are a bad recipient or notification,
// a server refusing with a 5xx reply (a failed authentication, say), a
// server without STARTTLS, and a certificate that does not verify.
func (s *Notifier) Notify(ctx context.Context, n notify.Notification) error {
	msg, err := Build(n, s.from, s.cfg.BaseURL)
	if err != nil {
		return notify.Permanent(fmt.Errorf("email %s: %w", HeaderText(n.ID), err))
	}
	to, _ := mail.ParseAddress(n.Receiver) // Build parsed it
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.send(ctx, to.Address, msg); err != nil {
		if cerr := ctx.Err(); cerr != nil && !notify.IsPermanent(err) {
			// The connection was closed under the client: say why.
			err = fmt.Errorf("%w: %w", cerr, err)
		}
		return fmt.Errorf("email %s to %s via %s: %w", HeaderText(n.ID), to.Address, s.cfg.Addr, err)
	}
	s.log.DebugContext(ctx, "mail sent", "id", n.ID, "to", to.Address, "alerts", len(n.Alerts), "digest", n.Digest)
	return nil
}

func (s *Notifier) send(ctx context.Context, to string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var c *smtp.Client
	switch s.cfg.TLS {
	case ImplicitTLS:
		tc := tls.Client(conn, s.cfg.TLSConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			return classify("TLS handshake", err)
		}
		c = smtp.NewClient(tc)
	case StartTLS:
		c, err = smtp.NewClientStartTLS(conn, s.cfg.TLSConfig)
		if err != nil {
			var se *smtp.SMTPError
			var ne net.Error
			if !errors.As(err, &se) && !errors.As(err, &ne) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				// The server does not offer STARTTLS.
				return notify.Permanent(fmt.Errorf("STARTTLS: %w", err))
			}
			return classify("STARTTLS", err)
		}
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	// go-smtp sets its own deadline per command; the context's deadline
	// closes the connection whatever it is (see AfterFunc above).
	c.CommandTimeout, c.SubmissionTimeout = s.cfg.Timeout, s.cfg.Timeout
	if err := c.Hello(s.cfg.HelloName); err != nil {
		return classify("EHLO", err)
	}
	if s.cfg.Username != "" {
		var a sasl.Client
		if s.cfg.Auth == AuthLogin {
			a = sasl.NewLoginClient(s.cfg.Username, s.cfg.Password.Reveal())
		} else {
			a = sasl.NewPlainClient("", s.cfg.Username, s.cfg.Password.Reveal())
		}
		if err := c.Auth(a); err != nil {
			return classify("AUTH", err)
		}
	}
	if err := c.Mail(s.from.Address, nil); err != nil {
		return classify("MAIL FROM", err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		return classify("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classify("end of DATA", err)
	}
	if err := c.Quit(); err != nil {
		// The mail was accepted; a failed QUIT changes nothing.
		s.log.DebugContext(ctx, "QUIT failed", "err", err)
	}
	return nil
}

// classify wraps err from an SMTP stage: a 5xx reply and a certificate
// that does not verify are permanent, everything else (4xx, network,
// timeouts) retryable.
func classify(stage string, err error) error {
	err = fmt.Errorf("%s: %w", stage, err)
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return notify.Permanent(err)
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return notify.Permanent(err)
	}
	return err
}
