// Package httpsink exports records by POSTing each batch to an HTTP
// endpoint.
package httpsink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"vaultwatch/internal/export"
)

// Defaults and names.
const (
	DefaultTimeout = 10 * time.Second

	EncodingJSON   = "json"   // a JSON array of records
	EncodingNDJSON = "ndjson" // one record a line

	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256, under the
	// configured key, of TIMESTAMP + "." + BODY.
	SignatureHeader = "X-Vaultwatch-Signature"
	// TimestampHeader carries the Unix time (seconds) of the request, which
	// the signature covers: a receiver refuses old requests, so a captured
	// request cannot be replayed later.
	TimestampHeader = "X-Vaultwatch-Timestamp"
)

// Config is one HTTP export.
type Config struct {
	// Name is the export's name.
	Name string `yaml:"-"`
	// URL is the endpoint (http or https; required).
	URL string `yaml:"url"`
	// Encoding is "json" (a JSON array, the default) or "ndjson" (one
	// record a line; the only choice for the CEF format).
	Encoding string `yaml:"encoding"`
	// Headers are added to every request.
	Headers map[string]string `yaml:"headers"`
	// BearerToken is sent as "Authorization: Bearer TOKEN".
	BearerToken     export.Secret `yaml:"bearer_token"`
	BearerTokenFile string        `yaml:"bearer_token_file"`
	// HMACKey signs every request (see SignatureHeader).
	HMACKey     export.Secret `yaml:"hmac_key"`
	HMACKeyFile string        `yaml:"hmac_key_file"`
	// Timeout bounds one request (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Format encodes the records (default export.Native).
	Format export.Format `yaml:"-"`
	// Client sends the requests (default: a client with Timeout).
	Client *http.Client `yaml:"-"`
	// TLSConfig, when set, is the client's TLS configuration.
	TLSConfig *tls.Config `yaml:"-"`
	// Now is the clock (default time.Now).
	Now func() time.Time `yaml:"-"`
}

// String describes c without its secrets.
func (c Config) String() string {
	s := fmt.Sprintf("http export %q to %s", c.Name, redactURL(c.URL))
	if c.BearerToken != "" || c.BearerTokenFile != "" {
		s += ", bearer token <secret>"
	}
	if c.HMACKey != "" || c.HMACKeyFile != "" {
		s += ", signed"
	}
	return s
}

// redactURL is s without its user information, query and fragment, which
// may hold credentials.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid url>"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// Validate reports every problem of c.
func (c *Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("http export: url is required"))
	} else if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("http export: url %s is not an http or https URL", redactURL(c.URL)))
	}
	switch c.Encoding {
	case "", EncodingJSON:
		if c.Format != nil && !c.Format.JSON() {
			errs = append(errs, fmt.Errorf("http export: format %s needs encoding ndjson", c.Format.Name()))
		}
	case EncodingNDJSON:
	default:
		errs = append(errs, fmt.Errorf("http export: unknown encoding %q (want json or ndjson)", c.Encoding))
	}
	if c.BearerToken != "" && c.BearerTokenFile != "" {
		errs = append(errs, errors.New("http export: bearer_token and bearer_token_file are exclusive"))
	}
	if c.HMACKey != "" && c.HMACKeyFile != "" {
		errs = append(errs, errors.New("http export: hmac_key and hmac_key_file are exclusive"))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("http export: timeout is negative"))
	}
	for k := range c.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			errs = append(errs, fmt.Errorf("http export: invalid header name %q", k))
		}
	}
	return errors.Join(errs...)
}

// Sink POSTs batches.
type Sink struct {
	cfg    Config
	token  export.Secret
	key    export.Secret
	client *http.Client
}

var _ export.Sink = (*Sink)(nil)

// New validates cfg, reads its secret files and returns the sink.
func New(cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	token, err := export.ResolveSecret("bearer_token", cfg.BearerToken, cfg.BearerTokenFile)
	if err != nil {
		return nil, fmt.Errorf("http export %s: %w", cfg.Name, err)
	}
	key, err := export.ResolveSecret("hmac_key", cfg.HMACKey, cfg.HMACKeyFile)
	if err != nil {
		return nil, fmt.Errorf("http export %s: %w", cfg.Name, err)
	}
	if cfg.Encoding == "" {
		cfg.Encoding = EncodingJSON
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Format == nil {
		cfg.Format = export.Native{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	client := cfg.Client
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.TLSConfig != nil {
			tr.TLSClientConfig = cfg.TLSConfig
		}
		client = &http.Client{Transport: tr, Timeout: cfg.Timeout,
			// A redirect would re-send the records elsewhere: refuse it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Sink{cfg: cfg, token: token, key: key, client: client}, nil
}

// Name returns the export's name.
func (s *Sink) Name() string { return s.cfg.Name }

// Sign returns the signature header value for body sent at timestamp (Unix
// seconds, as in TimestampHeader) under key.
func Sign(key []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrSignature is returned by Verify for a request that is not signed
// right or is too old.
var ErrSignature = errors.New("bad export signature")

// Verify checks the signature and timestamp headers of a request a
// receiver got: the signature must match and the timestamp be within
// maxSkew of now.
func Verify(key []byte, h http.Header, body []byte, now time.Time, maxSkew time.Duration) error {
	ts := h.Get(TimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: no valid %s", ErrSignature, TimestampHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > maxSkew || d < -maxSkew {
		return fmt.Errorf("%w: timestamp off by %s", ErrSignature, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(key, ts, body)), []byte(h.Get(SignatureHeader))) {
		return fmt.Errorf("%w: signature mismatch", ErrSignature)
	}
	return nil
}

// Send POSTs the batch as one request. A 2xx answer accepts it; 408, 429,
// 5xx, a timeout or a network failure are worth a retry; any other answer
// is permanent.
func (s *Sink) Send(ctx context.Context, batch []export.Record) error {
	if s.client == nil {
		return fmt.Errorf("http export %s: closed", s.cfg.Name)
	}
	if len(batch) == 0 {
		return nil
	}
	// A fresh body for every request: the transport may still read it
	// after Do returns.
	var body []byte
	ctype := "application/json"
	if s.cfg.Encoding == EncodingJSON {
		body = append(body, '[')
	} else if s.cfg.Format.JSON() {
		ctype = "application/x-ndjson"
	} else {
		ctype = "text/plain; charset=utf-8"
	}
	for i := range batch {
		var err error
		if i > 0 && s.cfg.Encoding == EncodingJSON {
			body = append(body, ',')
		}
		if body, err = s.cfg.Format.Append(body, &batch[i]); err != nil {
			return export.Permanent(fmt.Errorf("http export %s: %w", s.cfg.Name, err))
		}
		if s.cfg.Encoding == EncodingNDJSON {
			body = append(body, '\n')
		}
	}
	if s.cfg.Encoding == EncodingJSON {
		body = append(body, ']')
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return export.Permanent(fmt.Errorf("http export %s: %w", s.cfg.Name, err))
	}
	for k, v := range s.cfg.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "vaultwatch-export")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+string(s.token))
	}
	if s.key != "" {
		ts := strconv.FormatInt(s.cfg.Now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, Sign([]byte(s.key), ts, body))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// Network failures and timeouts: retry. The error names the
		// request without its query (it could hold a credential).
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("http export %s: POST %s: %w", s.cfg.Name, redactURL(s.cfg.URL), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return nil
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return fmt.Errorf("http export %s: POST %s: %s", s.cfg.Name, redactURL(s.cfg.URL), resp.Status)
	default:
		return export.Permanent(fmt.Errorf("http export %s: POST %s: %s", s.cfg.Name, redactURL(s.cfg.URL), resp.Status))
	}
}

// Close releases idle connections.
func (s *Sink) Close() error {
	if s.client != nil {
		s.client.CloseIdleConnections()
		s.client = nil
	}
	return nil
}
