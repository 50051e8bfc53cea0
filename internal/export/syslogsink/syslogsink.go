// Package syslogsink exports records as RFC 5424 syslog messages over TCP
// or TLS, octet-counted (RFC 6587).
package syslogsink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"vaultwatch/internal/export"
	"vaultwatch/internal/tlsfile"
)

// Defaults and names.
const (
	DefaultTimeout = 10 * time.Second

	NetworkTCP = "tcp"
	NetworkTLS = "tls"

	BodyCEF  = "cef"
	BodyJSON = "json"
)

// Config is one syslog export.
type Config struct {
	// Name is the export's name.
	Name string `yaml:"-"`
	// Address is the receiver, host:port (required).
	Address string `yaml:"address"`
	// Network is "tcp" (default) or "tls".
	Network string `yaml:"network"`
	// TLSCAFile is a PEM bundle to trust instead of the system roots;
	// TLSCertFile and TLSKeyFile a client certificate; TLSServerName the
	// name to verify (default: the address's host). TLSConfig, when set,
	// is used instead.
	TLSCAFile     string      `yaml:"tls_ca_file"`
	TLSCertFile   string      `yaml:"tls_cert_file"`
	TLSKeyFile    string      `yaml:"tls_key_file"`
	TLSServerName string      `yaml:"tls_server_name"`
	TLSConfig     *tls.Config `yaml:"-"`
	// Facility is the syslog facility, 0-23 (default 20, local4). A
	// pointer, so that 0 (kern) can be chosen.
	Facility *int `yaml:"facility"`
	// Hostname is the HOSTNAME field (default: this host's name).
	Hostname string `yaml:"hostname"`
	// AppName is the APP-NAME field (default "vaultwatch").
	AppName string `yaml:"app_name"`
	// Timeout bounds connecting and writing one batch (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Format encodes the message body (default export.CEF).
	Format export.Format `yaml:"-"`
}

// Validate reports every problem of c.
func (c *Config) Validate() error {
	var errs []error
	if c.Address == "" {
		errs = append(errs, errors.New("syslog export: address is required"))
	} else if _, _, err := net.SplitHostPort(c.Address); err != nil {
		errs = append(errs, fmt.Errorf("syslog export: address %q: want host:port", c.Address))
	}
	switch c.Network {
	case "", NetworkTCP, NetworkTLS:
	default:
		errs = append(errs, fmt.Errorf("syslog export: unknown network %q (want tcp or tls)", c.Network))
	}
	if c.Facility != nil && (*c.Facility < 0 || *c.Facility > 23) {
		errs = append(errs, fmt.Errorf("syslog export: facility %d out of range 0-23", *c.Facility))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("syslog export: tls_cert_file and tls_key_file go together"))
	}
	if c.Timeout < 0 {
		errs = append(errs, errors.New("syslog export: timeout is negative"))
	}
	return errors.Join(errs...)
}

// Sink writes frames to one connection, dialled on the first Send and
// again after any failure.
//
// TCP syslog has no acknowledgement: Send returns nil once the batch is
// written to the connection, so records in flight when a receiver dies
// can be lost. Before every batch the sink checks that the receiver has
// not closed the connection, which catches a restarted receiver.
type Sink struct {
	cfg    Config
	framer export.Syslog
	tls    *tls.Config
	conn   net.Conn
	buf    []byte
	closed bool
}

var _ export.Sink = (*Sink)(nil)

// New validates cfg; it does not connect.
func New(cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Network == "" {
		cfg.Network = NetworkTCP
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Format == nil {
		cfg.Format = export.CEF{}
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	fac := export.DefaultFacility
	if cfg.Facility != nil {
		fac = *cfg.Facility
	}
	s := &Sink{cfg: cfg, framer: export.Syslog{Facility: fac, Hostname: cfg.Hostname, AppName: cfg.AppName, Body: cfg.Format}}
	if cfg.Network == NetworkTLS {
		tc, err := cfg.tlsConfig()
		if err != nil {
			return nil, fmt.Errorf("syslog export %s: %w", cfg.Name, err)
		}
		s.tls = tc
	}
	return s, nil
}

func (c *Config) tlsConfig() (*tls.Config, error) {
	if c.TLSConfig != nil {
		return c.TLSConfig.Clone(), nil
	}
	name := c.TLSServerName
	if name == "" {
		name, _, _ = net.SplitHostPort(c.Address)
	}
	return tlsfile.Client(&tls.Config{MinVersion: tls.VersionTLS12, ServerName: name}, c.TLSCAFile, c.TLSCertFile, c.TLSKeyFile)
}

// Name returns the export's name.
func (s *Sink) Name() string { return s.cfg.Name }

func (s *Sink) dial(ctx context.Context) error {
	d := &net.Dialer{Timeout: s.cfg.Timeout, KeepAlive: 30 * time.Second}
	var (
		c   net.Conn
		err error
	)
	if s.tls != nil {
		c, err = (&tls.Dialer{NetDialer: d, Config: s.tls}).DialContext(ctx, "tcp", s.cfg.Address)
	} else {
		c, err = d.DialContext(ctx, "tcp", s.cfg.Address)
	}
	if err != nil {
		return err
	}
	s.conn = c
	return nil
}

func (s *Sink) drop() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// Send writes the batch as consecutive frames, connecting first if need be.
// On a failure the connection is dropped, to be dialled again by the next
// Send.
func (s *Sink) Send(ctx context.Context, batch []export.Record) error {
	if s.closed {
		return fmt.Errorf("syslog export %s: closed", s.cfg.Name)
	}
	if len(batch) == 0 {
		return nil
	}
	buf := s.buf[:0]
	for i := range batch {
		var err error
		if buf, err = s.framer.AppendFrame(buf, &batch[i]); err != nil {
			return export.Permanent(fmt.Errorf("syslog export %s: %w", s.cfg.Name, err))
		}
	}
	s.buf = buf[:0]
	if s.conn != nil && peerClosed(s.conn) {
		s.drop()
	}
	if s.conn == nil {
		if err := s.dial(ctx); err != nil {
			return fmt.Errorf("syslog export %s: connect %s: %w", s.cfg.Name, s.cfg.Address, err)
		}
	}
	deadline := time.Now().Add(s.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn := s.conn
	if err := conn.SetWriteDeadline(deadline); err != nil {
		s.drop()
		return fmt.Errorf("syslog export %s: %w", s.cfg.Name, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetWriteDeadline(time.Unix(1, 0)) })
	_, err := conn.Write(buf)
	stop()
	if err != nil {
		s.drop()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fmt.Errorf("syslog export %s: write to %s: %w", s.cfg.Name, s.cfg.Address, err)
	}
	return nil
}

// Close closes the connection.
func (s *Sink) Close() error {
	s.closed = true
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
