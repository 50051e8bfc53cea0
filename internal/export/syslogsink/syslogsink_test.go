package syslogsink

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exporttest"
)

const waitFor = 30 * time.Second

// receiver is a syslog-over-TCP server that parses octet-counted frames.
type receiver struct {
	ln    net.Listener
	msgs  chan string
	errs  chan error
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func listen(t *testing.T, tc *tls.Config) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	rv := &receiver{ln: ln, msgs: make(chan string, 1000), errs: make(chan error, 10)}
	rv.wg.Add(1)
	go func() {
		defer rv.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			rv.mu.Lock()
			rv.conns = append(rv.conns, c)
			rv.mu.Unlock()
			rv.wg.Add(1)
			go func() {
				defer rv.wg.Done()
				rv.read(c)
			}()
		}
	}()
	t.Cleanup(rv.close)
	return rv
}

func (rv *receiver) read(c net.Conn) {
	var buf []byte
	tmp := make([]byte, 32<<10)
	for {
		n, err := c.Read(tmp)
		buf = append(buf, tmp[:n]...)
		for {
			msg, rest, ferr := export.ReadFrame(buf, 1<<20)
			if ferr != nil {
				rv.errs <- ferr
				return
			}
			if msg == nil {
				break
			}
			rv.msgs <- string(msg)
			buf = rest
		}
		if err != nil {
			if len(buf) > 0 && !errors.Is(err, net.ErrClosed) {
				rv.errs <- errors.New("connection ended inside a frame")
			}
			return
		}
	}
}

// dropConns closes the connections accepted so far, as a restarted
// receiver would.
func (rv *receiver) dropConns() {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	for _, c := range rv.conns {
		c.Close()
	}
	rv.conns = nil
}

func (rv *receiver) close() {
	rv.ln.Close()
	rv.dropConns()
	rv.wg.Wait()
}

func (rv *receiver) expect(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	timeout := time.After(waitFor)
	for len(out) < n {
		select {
		case m := <-rv.msgs:
			out = append(out, m)
		case err := <-rv.errs:
			t.Fatal(err)
		case <-timeout:
			t.Fatalf("got %d of %d messages", len(out), n)
		}
	}
	return out
}

func keyOf(msg string) string {
	_, after, _ := strings.Cut(msg, `[vaultwatch@32473 key="`)
	k, _, _ := strings.Cut(after, `"`)
	return k
}

func TestTCP(t *testing.T) {
	rv := listen(t, nil)
	fac := 16
	s, err := New(Config{Name: "siem", Address: rv.ln.Addr().String(), Facility: &fac, Hostname: "vw-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := exporttest.Stream(6)
	if err := s.Send(t.Context(), recs[:3]); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(t.Context(), recs[3:]); err != nil {
		t.Fatal(err)
	}
	msgs := rv.expect(t, 6)
	for i, m := range msgs {
		if keyOf(m) != recs[i].IdempotencyKey() {
			t.Errorf("message %d: key %q, want %q", i, keyOf(m), recs[i].IdempotencyKey())
		}
		f := strings.SplitN(m, " ", 7)
		if f[0] != "<132>1" && f[0] != "<130>1" { // local0: medium 4, high 2
			t.Errorf("PRI %s", f[0])
		}
		if f[2] != "vw-1" || f[3] != "vaultwatch" || f[5] != "alert" {
			t.Errorf("header %q", f[:6])
		}
		if !strings.Contains(m, "] CEF:0|vaultwatch|vaultwatch|") {
			t.Errorf("body %q", m)
		}
	}
}

func TestReconnect(t *testing.T) {
	rv := listen(t, nil)
	s, err := New(Config{Address: rv.ln.Addr().String(), Format: export.Native{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := exporttest.Stream(4)
	if err := s.Send(t.Context(), recs[:2]); err != nil {
		t.Fatal(err)
	}
	rv.expect(t, 2)
	// The receiver restarts: the sink notices the closed connection and
	// dials again.
	rv.dropConns()
	var err2 error
	for range 3 {
		if err2 = s.Send(t.Context(), recs[2:]); err2 == nil {
			break
		}
	}
	if err2 != nil {
		t.Fatal(err2)
	}
	for _, m := range rv.expect(t, 2) {
		if !strings.Contains(m, `"schema":"vaultwatch.export/v1"`) {
			t.Errorf("body %q", m)
		}
	}
}

func TestDownReceiverIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := New(Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(t.Context(), exporttest.Stream(1))
	if err == nil || errors.Is(err, export.ErrPermanent) {
		t.Errorf("Send to a closed port: %v, want retryable", err)
	}
	_ = s.Close()
	if err := s.Send(t.Context(), exporttest.Stream(1)); err == nil {
		t.Error("Send after Close succeeded")
	}
}

// selfSigned returns a server certificate for 127.0.0.1 and a pool
// trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "syslog.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"syslog.test"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
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

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	rv := listen(t, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	s, err := New(Config{Address: rv.ln.Addr().String(), Network: NetworkTLS, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "syslog.test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := exporttest.Stream(3)
	if err := s.Send(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	for i, m := range rv.expect(t, 3) {
		if keyOf(m) != recs[i].IdempotencyKey() {
			t.Errorf("message %d: %q", i, m)
		}
	}
	rv.dropConns()
	var err2 error
	for range 3 {
		if err2 = s.Send(t.Context(), recs[:1]); err2 == nil {
			break
		}
	}
	if err2 != nil {
		t.Fatal(err2)
	}
	rv.expect(t, 1)

	// A receiver whose certificate is not trusted is refused.
	bad, err := New(Config{Address: rv.ln.Addr().String(), Network: NetworkTLS, TLSServerName: "syslog.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Send(t.Context(), recs[:1]); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
}

func TestCancelledWrite(t *testing.T) {
	// A receiver that never reads: the write blocks once the buffers fill,
	// and cancelling the context ends it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	s, err := New(Config{Address: ln.Addr().String(), Timeout: waitFor})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := exporttest.Stream(1)
	big[0].Alert.Explanation = strings.Repeat("x", 16<<20)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, big) }()
	c := <-accepted
	defer c.Close()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Send: %v, want context.Canceled", err)
	}
}

func TestValidate(t *testing.T) {
	fac := 24
	c := Config{Address: "nohostport", Network: "udp", Facility: &fac, TLSKeyFile: "k", Timeout: -1}
	err := c.Validate()
	for _, w := range []string{"address", "network", "facility", "tls_cert_file", "timeout"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate: %v, want %s named", err, w)
		}
	}
	if err := (&Config{}).Validate(); err == nil {
		t.Error("no address accepted")
	}
}
