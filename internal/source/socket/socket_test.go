package socket

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
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"vaultwatch/internal/source"
)

const wait = 10 * time.Second

type running struct {
	l      *Listener
	out    chan source.Chunk
	cancel context.CancelFunc
	errc   chan error
}

func start(t *testing.T, cfg Config) *running {
	t.Helper()
	cfg.Name = "vault-socket"
	cfg.Addr = "127.0.0.1:0"
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{l: l, out: make(chan source.Chunk), cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- l.Run(ctx, r.out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.errc:
		case <-time.After(wait):
			t.Error("Run did not return")
		}
	})
	return r
}

func (r *running) next(t *testing.T) source.Chunk {
	t.Helper()
	select {
	case c := <-r.out:
		if c.Source != "vault-socket" || !strings.HasPrefix(c.Origin, "tcp 127.0.0.1:") || c.Line < 1 || c.Cursor != (source.Cursor{}) {
			t.Fatalf("bad chunk %+v", c)
		}
		if c.Done != nil {
			c.Done(source.Result{})
		}
		return c
	case err := <-r.errc:
		t.Fatalf("Run returned: %v", err)
	case <-time.After(wait):
		t.Fatal("no chunk within the deadline")
	}
	return source.Chunk{}
}

// numbered receives chunks until n non-empty lines have arrived, and returns
// them by origin and line number.
func (r *running) numbered(t *testing.T, n int) map[string]map[int]string {
	t.Helper()
	got := map[string]map[int]string{}
	count := 0
	for count < n {
		c := r.next(t)
		if got[c.Origin] == nil {
			got[c.Origin] = map[int]string{}
		}
		text := strings.TrimSuffix(string(c.Data), "\n")
		for i, line := range strings.Split(text, "\n") {
			if line == "" {
				continue
			}
			if prev, ok := got[c.Origin][c.Line+i]; ok {
				t.Fatalf("%s line %d twice: %q and %q", c.Origin, c.Line+i, prev, line)
			}
			got[c.Origin][c.Line+i] = line
			count++
		}
	}
	return got
}

func dial(t *testing.T, r *running) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", r.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNewRejects(t *testing.T) {
	for _, cfg := range []Config{{Addr: ":0"}, {Name: "s"}, {Name: "s", Addr: ":0", MaxLine: -1}, {Name: "s", Addr: "256.0.0.1:0"}} {
		if l, err := New(cfg); err == nil {
			l.Close()
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestLinesSplitAcrossWrites(t *testing.T) {
	r := start(t, Config{})
	c := dial(t, r)
	for _, w := range []string{`{"a":1}` + "\n" + `{"b"`, `:2}` + "\n", `{"c":3}` + "\n" + `{"d":4`, "}\n"} {
		if _, err := c.Write([]byte(w)); err != nil {
			t.Fatal(err)
		}
	}
	got := r.numbered(t, 4)
	want := map[int]string{1: `{"a":1}`, 2: `{"b":2}`, 3: `{"c":3}`, 4: `{"d":4}`}
	lines := got["tcp "+c.LocalAddr().String()]
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	waitFor(t, func() bool { return r.l.Status().Records == 4 })
	st := r.l.Status()
	if st.Name != "vault-socket" || st.Kind != "socket" || st.Records != 4 || st.Errors != 0 {
		t.Errorf("status %+v", st)
	}
}

// TestQuietConnection: lines are handed on when the connection goes quiet,
// and the connection is read again after.
func TestQuietConnection(t *testing.T) {
	r := start(t, Config{})
	c := dial(t, r)
	for i := 1; i <= 3; i++ {
		line := fmt.Sprintf(`{"n":%d}`, i)
		c.Write([]byte(line + "\n"))
		ch := r.next(t)
		if string(ch.Data) != line+"\n" || ch.Line != i {
			t.Fatalf("chunk %d: line %d %q", i, ch.Line, ch.Data)
		}
	}
}

func TestLastLineOnClose(t *testing.T) {
	r := start(t, Config{Linger: time.Hour})
	c := dial(t, r)
	c.Write([]byte(`{"a":1}` + "\n" + `{"b":2}`))
	c.Close()
	ch := r.next(t)
	if string(ch.Data) != `{"a":1}`+"\n"+`{"b":2}` {
		t.Fatalf("got %q", ch.Data)
	}
}

func TestMaxChunk(t *testing.T) {
	r := start(t, Config{MaxChunk: 100, Linger: time.Hour})
	c := dial(t, r)
	var all strings.Builder
	for i := range 50 {
		fmt.Fprintf(&all, `{"n":%d}`+"\n", i)
	}
	c.Write([]byte(all.String()))
	var got strings.Builder
	for got.Len() < all.Len() {
		ch := r.next(t)
		if !bytes.HasSuffix(ch.Data, []byte("\n")) {
			t.Fatalf("chunk ends inside a line: %q", ch.Data)
		}
		got.Write(ch.Data)
	}
	if got.String() != all.String() {
		t.Fatal("data differs")
	}
}

func TestLongLine(t *testing.T) {
	r := start(t, Config{MaxLine: 100})
	c := dial(t, r)
	long := `{"x":"` + strings.Repeat("y", 300) + `"}`
	c.Write([]byte(`{"n":1}` + "\n" + long[:150]))
	c.Write([]byte(long[150:] + "\n" + `{"n":3}` + "\n"))
	got := r.numbered(t, 2)[("tcp " + c.LocalAddr().String())]
	if fmt.Sprint(got) != fmt.Sprint(map[int]string{1: `{"n":1}`, 3: `{"n":3}`}) {
		t.Fatalf("got %v", got)
	}
	st := r.l.Status()
	if st.Errors != 1 || !strings.Contains(st.LastError, ":2: line longer than 100 bytes") || strings.Contains(st.LastError, "yyy") {
		t.Fatalf("status %+v", st)
	}
}

func TestManyConnections(t *testing.T) {
	const conns, lines = 20, 50
	r := start(t, Config{})
	var wg sync.WaitGroup
	origins := make([]string, conns)
	for i := range conns {
		c := dial(t, r)
		origins[i] = "tcp " + c.LocalAddr().String()
		wg.Go(func() {
			for j := 1; j <= lines; j++ {
				fmt.Fprintf(c, `{"conn":%d,"n":%d}`+"\n", i, j)
			}
		})
	}
	got := r.numbered(t, conns*lines)
	wg.Wait()
	for i, o := range origins {
		for j := 1; j <= lines; j++ {
			if want := fmt.Sprintf(`{"conn":%d,"n":%d}`, i, j); got[o][j] != want {
				t.Fatalf("%s line %d: %q, want %q", o, j, got[o][j], want)
			}
		}
	}
}

func TestMaxConns(t *testing.T) {
	r := start(t, Config{MaxConns: 1})
	first := dial(t, r)
	first.Write([]byte("{}\n"))
	r.next(t) // the first connection is served
	second := dial(t, r)
	second.SetReadDeadline(time.Now().Add(wait))
	if _, err := second.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("second connection: %v, want it closed", err)
	}
	if st := r.l.Status(); st.Errors != 1 || !strings.Contains(st.LastError, "1 connections already open") {
		t.Fatalf("status %+v", st)
	}
	// The first goes on.
	first.Write([]byte(`{"n":2}` + "\n"))
	if ch := r.next(t); ch.Line != 2 {
		t.Fatalf("line %d", ch.Line)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "reset")
}

func TestShutdown(t *testing.T) {
	r := start(t, Config{})
	c := dial(t, r)
	c.Write([]byte("{}\n"))
	r.next(t)
	addr := r.l.Addr().String()
	r.cancel()
	select {
	case err := <-r.errc:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		r.errc <- nil // for the cleanup
	case <-time.After(wait):
		t.Fatal("Run did not return")
	}
	c.SetReadDeadline(time.Now().Add(wait))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("the connection is still open: %v", err)
	}
	if c2, err := net.Dial("tcp", addr); err == nil {
		c2.Close()
		t.Fatal("the listener still accepts")
	}
}

// TestRunAgain: a listener whose Run returned listens again on the same
// address when run again.
func TestRunAgain(t *testing.T) {
	r := start(t, Config{})
	addr := r.l.Addr().String()
	r.cancel()
	<-r.errc
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.l.Run(ctx, r.out) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Error(err)
		}
		r.errc <- nil
	}()
	var c net.Conn
	waitFor(t, func() bool {
		var err error
		c, err = net.Dial("tcp", addr)
		return err == nil
	})
	defer c.Close()
	c.Write([]byte("{}\n"))
	r.next(t)
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	r := start(t, Config{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	c, err := tls.Dial("tcp", r.l.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "vaultwatch.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Each line is handed on when the connection goes quiet: the reads
	// that time out leave the TLS connection usable.
	for i := 1; i <= 3; i++ {
		line := fmt.Sprintf(`{"n":%d}`, i)
		c.Write([]byte(line[:3]))
		c.Write([]byte(line[3:] + "\n"))
		ch := r.next(t)
		if string(ch.Data) != line+"\n" || ch.Line != i {
			t.Fatalf("chunk %d: line %d %q", i, ch.Line, ch.Data)
		}
	}

	// A client that does not speak TLS is refused, and counted.
	plain := dial(t, r)
	plain.Write([]byte(`{"n":1}` + "\n"))
	plain.SetReadDeadline(time.Now().Add(wait))
	io.Copy(io.Discard, plain)
	waitFor(t, func() bool { return r.l.Status().Errors == 1 })
	if st := r.l.Status(); !strings.Contains(st.LastError, "TLS handshake") {
		t.Fatalf("status %+v", st)
	}
}

// waitFor polls cond until it holds, failing the test past the deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within the deadline")
		}
		time.Sleep(time.Millisecond)
	}
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "vaultwatch.test"},
		DNSNames:              []string{"vaultwatch.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
