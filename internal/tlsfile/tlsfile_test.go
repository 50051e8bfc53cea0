package tlsfile

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name                string
		ca, cert, key, want string
	}{
		{"ca not PEM", notPEM, "", "", "tls_ca_file " + notPEM + " holds no PEM certificate"},
		{"ca missing", filepath.Join(dir, "missing.pem"), "", "", "missing.pem"},
		{"cert not PEM", "", notPEM, notPEM, "tls_cert_file " + notPEM},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Client(nil, tt.ca, tt.cert, tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestClientKeepsBase(t *testing.T) {
	base := &tls.Config{ServerName: "logs.example", MinVersion: tls.VersionTLS13}
	tc, err := Client(base, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if tc == base || tc.ServerName != "logs.example" || tc.MinVersion != tls.VersionTLS13 {
		t.Errorf("got %+v, want a copy of the base", tc)
	}
	if tc, _ := Client(nil, "", "", ""); tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x, want TLS 1.2", tc.MinVersion)
	}
}
