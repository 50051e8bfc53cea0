// Package tlsfile builds the TLS client configuration of an outbound
// connection (a Kafka broker, a syslog receiver) from the files its
// settings name: tls_ca_file, tls_cert_file and tls_key_file.
package tlsfile

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Client returns a copy of base, or a new configuration requiring TLS 1.2
// or later, that trusts the CA certificates of caFile instead of the
// system's and presents the certificate of certFile and keyFile, each when
// named. Its errors name the setting and the file.
func Client(base *tls.Config, caFile, certFile, keyFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		tc = base.Clone()
	}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("tls_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("tls_ca_file %s holds no PEM certificate", caFile)
		}
		tc.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("tls_cert_file %s, tls_key_file %s: %w", certFile, keyFile, err)
		}
		tc.Certificates = append(tc.Certificates, cert)
	}
	return tc, nil
}
