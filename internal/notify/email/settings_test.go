package email

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSettings(t *testing.T) {
	cert, _ := certs(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "smtp.secret")
	caFile := filepath.Join(dir, "ca.pem")
	badCA := filepath.Join(dir, "bad.pem")
	for name, data := range map[string][]byte{
		pwFile: []byte(testPassword + "\n"),
		caFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		badCA:  []byte("not a certificate"),
	} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := func(k string) (string, bool) { return testPassword, k == "SMTP_PASSWORD" }

	// From a file, with the CA bundle, delivered over STARTTLS.
	l := listen(t)
	be := startServer(t, l, cert, serverOpts{tls: true})
	s := Settings{Server: l.Addr().String(), Username: testUser, PasswordFile: pwFile, From: "alerts@example.com", CAFile: caFile}
	n, err := s.Notifier("", nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), testNotification(testAlert())); err != nil {
		t.Fatal(err)
	}
	if len(be.got()) != 1 {
		t.Fatal("not delivered")
	}
	if n.cfg.TLSConfig.MinVersion != tls.VersionTLS12 {
		t.Error("the CA file's TLS config is not used")
	}

	// From the environment.
	s = Settings{Server: "smtp.example.com:587", Username: testUser, PasswordEnv: "SMTP_PASSWORD", From: "a@example.com"}
	if n, err := s.Notifier("", nil, env); err != nil || n.cfg.Password.Reveal() != testPassword {
		t.Errorf("password from the environment: %v", err)
	}

	// Every problem at once, each named.
	s = Settings{PasswordEnv: "NOPE", CAFile: badCA, From: "a@example.com"}
	_, err = s.Notifier("", nil, env)
	for _, want := range []string{"smtp.server: missing", "smtp.username", "NOPE is not set", "smtp.ca_file"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
