package email

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"vaultwatch/internal/notify"
)

// Settings is the smtp block of the configuration file, as decoded:
//
//	smtp:
//	  server: smtp.example.com:587
//	  tls: starttls            # starttls (default), tls (port 465), none (loopback only)
//	  username: vaultwatch@example.com
//	  password_file: /etc/vaultwatch/smtp.secret   # or password_env: SMTP_PASSWORD
//	  auth: plain              # or login
//	  from: "vaultwatch <vaultwatch@example.com>"
//	  ca_file: /etc/vaultwatch/smtp-ca.pem          # optional, instead of the system roots
//	  timeout: 30s
type Settings struct {
	Server       string        `yaml:"server" json:"server"`
	TLS          TLSMode       `yaml:"tls,omitempty" json:"tls,omitempty"`
	Username     string        `yaml:"username,omitempty" json:"username,omitempty"`
	PasswordFile string        `yaml:"password_file,omitempty" json:"password_file,omitempty"`
	PasswordEnv  string        `yaml:"password_env,omitempty" json:"password_env,omitempty"`
	Auth         string        `yaml:"auth,omitempty" json:"auth,omitempty"`
	From         string        `yaml:"from" json:"from"`
	HelloName    string        `yaml:"hello_name,omitempty" json:"hello_name,omitempty"`
	CAFile       string        `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	Timeout      time.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Notifier reads the settings' files (password, CA bundle) and returns
// the notifier, or every problem at once, each naming its key under
// "smtp.". lookupEnv is os.LookupEnv, or a replacement in tests.
func (s Settings) Notifier(baseURL string, log *slog.Logger, lookupEnv func(string) (string, bool)) (*Notifier, error) {
	cfg := Config{Addr: s.Server, TLS: s.TLS, Username: s.Username, Auth: s.Auth, From: s.From,
		HelloName: s.HelloName, BaseURL: baseURL, Timeout: s.Timeout, Logger: log}
	var errs []error
	if s.Server == "" {
		errs = append(errs, errors.New("smtp.server: missing"))
	}
	if s.Username != "" || s.PasswordFile != "" || s.PasswordEnv != "" {
		if s.Username == "" {
			errs = append(errs, errors.New("smtp.username: missing with a password"))
		}
		pw, err := notify.LoadSecret("smtp.password_file/password_env", s.PasswordFile, s.PasswordEnv, lookupEnv)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.Password = pw
	}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("smtp.ca_file: %w", err))
		case !pool.AppendCertsFromPEM(pem):
			errs = append(errs, fmt.Errorf("smtp.ca_file: %s holds no PEM certificate", s.CAFile))
		default:
			cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return New(cfg)
}
