package kafka

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"vaultwatch/internal/source"
)

// waitFor bounds every wait on the cluster or the consumer, so that a
// broken test fails instead of hanging; nothing is asserted about time.
const waitFor = 60 * time.Second

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// produce writes each value as one message to topic's partition, in order.
func produce(t *testing.T, addrs []string, topic string, partition int32, values []string, opts ...kgo.Opt) {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(addrs...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)})
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// running is a Consumer's Run in a goroutine.
type running struct {
	c      *Consumer
	out    chan source.Chunk
	cancel context.CancelFunc
	errc   chan error
}

func start(t *testing.T, cfg Config) *running {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "kafka-test"
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = -1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testOutput(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: c, out: make(chan source.Chunk), cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- c.Run(ctx, r.out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.errc:
		case <-time.After(waitFor):
			t.Error("Run did not return")
		}
	})
	return r
}

// next returns the next chunk.
func (r *running) next(t *testing.T) source.Chunk {
	t.Helper()
	select {
	case ch := <-r.out:
		return ch
	case err := <-r.errc:
		r.errc <- err
		t.Fatalf("Run returned %v while a chunk was awaited", err)
	case <-time.After(waitFor):
		t.Fatal("no chunk")
	}
	return source.Chunk{}
}

// messages reads chunks until n messages have arrived; it returns the
// chunks.
func (r *running) messages(t *testing.T, n int) []source.Chunk {
	t.Helper()
	var chunks []source.Chunk
	for got := 0; got < n; {
		ch := r.next(t)
		chunks = append(chunks, ch)
		got += bytes.Count(ch.Data, []byte("\n"))
	}
	return chunks
}

// stop cancels Run and returns its error.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	return r.wait(t)
}

// wait returns Run's error once it returns.
func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.errc:
		r.errc <- err // for the cleanup
		return err
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
	}
	return nil
}

func lines(chunks []source.Chunk) []string {
	var ls []string
	for _, ch := range chunks {
		ls = append(ls, strings.Split(strings.TrimSuffix(string(ch.Data), "\n"), "\n")...)
	}
	return ls
}

func doneAll(chunks []source.Chunk) {
	for _, ch := range chunks {
		ch.Done(source.Result{Records: 1})
	}
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAzureAndVaultMessagesArriveAsChunks(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "logs"))
	azure := readTestdata(t, "azure-records.json") // no trailing newline, as Event Hubs sends it
	vault := readTestdata(t, "vault-audit.jsonl")  // two lines
	single := `{"time":"2026-11-20T09:00:00Z"}`
	produce(t, c.ListenAddrs(), "logs", 0, []string{azure, vault, single})

	r := start(t, Config{Brokers: c.ListenAddrs(), Topics: []string{"logs"}})
	chunks := r.messages(t, 4)
	var data []byte
	for i, ch := range chunks {
		if ch.Source != "kafka-test" || ch.Line != 0 || ch.Cursor != (source.Cursor{}) || ch.Done == nil {
			t.Errorf("chunk %d: source %q line %d cursor %v done %v", i, ch.Source, ch.Line, ch.Cursor, ch.Done != nil)
		}
		data = append(data, ch.Data...)
	}
	if want := "kafka logs/0@0"; chunks[0].Origin != want {
		t.Errorf("origin %q, want %q", chunks[0].Origin, want)
	}
	if want := azure + "\n" + vault + single + "\n"; string(data) != want {
		t.Errorf("data:\n%s\nwant:\n%s", data, want)
	}
	doneAll(chunks)
	st := r.c.Status()
	if st.Name != "kafka-test" || st.Kind != "kafka" || st.Unit != "messages" || st.Records != 3 || st.Bytes != int64(len(data)) || st.LastRead.IsZero() {
		t.Errorf("status %+v", st)
	}
	if err := r.stop(t); err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
}

// TestOffsetsCommittedOnlyAfterDone: a consumer stopped before Done leaves
// the messages to the next member of the group; after Done it does not.
func TestOffsetsCommittedOnlyAfterDone(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "logs"))
	cfg := Config{Brokers: c.ListenAddrs(), Topics: []string{"logs"}, Group: "g1"}
	want := []string{`{"n":0}`, `{"n":1}`, `{"n":2}`}
	produce(t, c.ListenAddrs(), "logs", 0, want)

	a := start(t, cfg)
	if got := lines(a.messages(t, 3)); !slices.Equal(got, want) {
		t.Fatalf("first consumer got %q", got)
	}
	if err := a.stop(t); err != nil { // killed before Done
		t.Fatal(err)
	}

	b := start(t, cfg)
	chunks := b.messages(t, 3)
	if got := lines(chunks); !slices.Equal(got, want) {
		t.Fatalf("second consumer got %q, want the same messages again", got)
	}
	doneAll(chunks)
	if err := b.stop(t); err != nil {
		t.Fatal(err)
	}

	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"n":3}`})
	d := start(t, cfg)
	ch := d.next(t)
	if string(ch.Data) != "{\"n\":3}\n" || ch.Origin != "kafka logs/0@3" {
		t.Fatalf("third consumer got %q at %s, want only the new message", ch.Data, ch.Origin)
	}
}

// TestFailedDone: Run stops with the chunk's error and nothing at or past
// the failed chunk is committed, even chunks done after it.
func TestFailedDone(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "logs"))
	cfg := Config{Brokers: c.ListenAddrs(), Topics: []string{"logs"}, Group: "g1", MaxChunkBytes: 1}
	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"n":0}`, `{"n":1}`, `{"n":2}`, `{"n":3}`})

	a := start(t, cfg)
	chunks := a.messages(t, 4)
	if len(chunks) != 4 {
		t.Fatalf("%d chunks, want one a message", len(chunks))
	}
	errDisk := errors.New("disk full")
	chunks[0].Done(source.Result{Records: 1})
	chunks[2].Done(source.Result{Records: 1})
	chunks[1].Done(source.Result{Err: errDisk})
	chunks[3].Done(source.Result{Records: 1})
	err := a.wait(t)
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), "logs/0@1") {
		t.Fatalf("Run returned %v, want the chunk's error naming logs/0@1", err)
	}
	if st := a.c.Status(); st.Errors == 0 || !strings.Contains(st.LastError, "disk full") {
		t.Errorf("status %+v", st)
	}

	b := start(t, cfg)
	ch := b.next(t)
	if ch.Origin != "kafka logs/0@1" || string(ch.Data) != "{\"n\":1}\n" {
		t.Fatalf("restart got %q at %s, want the failed chunk again", ch.Data, ch.Origin)
	}
}

func TestTwoPartitionsAndLag(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "logs"))
	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"p":0,"n":0}`, `{"p":0,"n":1}`, `{"p":0,"n":2}`})
	produce(t, c.ListenAddrs(), "logs", 1, []string{`{"p":1,"n":0}`, `{"p":1,"n":1}`})

	r := start(t, Config{Brokers: c.ListenAddrs(), Topics: []string{"logs"}})
	chunks := r.messages(t, 5)
	byPartition := map[string][]string{}
	for _, ch := range chunks {
		p, _, _ := strings.Cut(strings.TrimPrefix(ch.Origin, "kafka "), "@")
		byPartition[p] = append(byPartition[p], lines([]source.Chunk{ch})...)
	}
	if len(byPartition) != 2 || len(byPartition["logs/0"]) != 3 || len(byPartition["logs/1"]) != 2 {
		t.Fatalf("by partition: %q", byPartition)
	}
	if got := r.c.Status().Lag; got != 5 {
		t.Errorf("lag %d before Done, want 5", got)
	}
	// Done of one partition's chunks only.
	for _, ch := range chunks {
		if strings.HasPrefix(ch.Origin, "kafka logs/1@") {
			ch.Done(source.Result{})
		}
	}
	if got := r.c.Status().Lag; got != 3 {
		t.Errorf("lag %d after partition 1 is done, want 3", got)
	}
	for _, ch := range chunks {
		ch.Done(source.Result{})
	}
	if st := r.c.Status(); st.Lag != 0 || st.Unit != "messages" {
		t.Errorf("lag %d %s after Done, want 0", st.Lag, st.Unit)
	}
}

func TestSASL(t *testing.T) {
	const user, pass = "vaultwatch", "sasl-password-never-printed"
	for _, tt := range []struct {
		mechanism string
		client    sasl.Mechanism
	}{
		{MechanismPLAIN, plain.Auth{User: user, Pass: pass}.AsMechanism()},
		{MechanismSCRAMSHA256, scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()},
		{MechanismSCRAMSHA512, scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()},
	} {
		t.Run(tt.mechanism, func(t *testing.T) {
			c := newCluster(t, kfake.SeedTopics(1, "logs"), kfake.EnableSASL(), kfake.Superuser(tt.mechanism, user, pass))
			produce(t, c.ListenAddrs(), "logs", 0, []string{`{"n":0}`}, kgo.SASL(tt.client))

			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg := Config{Brokers: c.ListenAddrs(), Topics: []string{"logs"}, Logger: logger,
				SASL: SASL{Mechanism: tt.mechanism, User: user, Password: pass}}
			r := start(t, cfg)
			ch := r.next(t)
			if string(ch.Data) != "{\"n\":0}\n" {
				t.Errorf("got %q", ch.Data)
			}
			ch.Done(source.Result{})
			if err := r.stop(t); err != nil {
				t.Fatal(err)
			}

			// A wrong password stops Run with an error that does not
			// quote it.
			const wrong = "wrong-password-never-printed"
			cfg.SASL.Password = wrong
			bad := start(t, cfg)
			err := bad.wait(t)
			if err == nil {
				t.Fatal("Run with a wrong password returned nil")
			}
			if st := bad.c.Status(); st.Errors == 0 || st.LastError == "" {
				t.Errorf("status %+v", st)
			}
			for _, secret := range []string{pass, wrong} {
				if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
					t.Errorf("the password is in the error %q or the logs", err)
				}
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestEventHubs runs the Event Hubs configuration against a cluster that
// checks what Event Hubs checks: TLS, and SASL PLAIN as "$ConnectionString"
// with the connection string as the password. Only the seed broker is
// pointed at the cluster instead of the namespace.
func TestEventHubs(t *testing.T) {
	serverTLS, caPEM := testTLS(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	clientTLS := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c := newCluster(t, kfake.SeedTopics(2, "keyvault-logs"), kfake.TLS(serverTLS),
		kfake.EnableSASL(), kfake.Superuser("PLAIN", "$ConnectionString", testConn))
	azure := readTestdata(t, "azure-records.json")
	produce(t, c.ListenAddrs(), "keyvault-logs", 1, []string{azure},
		kgo.DialTLSConfig(clientTLS.Clone()),
		kgo.SASL(plain.Auth{User: "$ConnectionString", Pass: testConn}.AsMechanism()))

	var logs syncBuffer
	cfg := Config{
		Name:                      "eventhubs",
		EventHubsConnectionString: testConn,
		TLSCAFile:                 caFile,
		Logger:                    slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ShutdownGrace:             -1,
	}
	con, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	con.extra = []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{c: con, out: make(chan source.Chunk), cancel: cancel, errc: make(chan error, 1)}
	go func() { r.errc <- con.Run(ctx, r.out) }()
	t.Cleanup(func() { cancel(); r.wait(t) })

	ch := r.next(t)
	if ch.Origin != "kafka keyvault-logs/1@0" || string(ch.Data) != azure+"\n" {
		t.Errorf("got %q at %s", ch.Data, ch.Origin)
	}
	ch.Done(source.Result{Records: 2, Events: 2})
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{testKey, "SharedAccessKey="} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
}

// testTLS returns a server config with a self-signed certificate for
// 127.0.0.1, and the certificate in PEM.
func testTLS(t *testing.T) (server *tls.Config, caPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kafka test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}, MinVersion: tls.VersionTLS12}
	return server, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestRebalance: when a second member joins, the first gives up a
// partition: what it had done there is committed, and what it had not is
// read again by the new owner; a Done that comes after the partition is
// gone commits nothing.
func TestRebalance(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(2, "logs"))
	cfg := Config{Brokers: c.ListenAddrs(), Topics: []string{"logs"}, Group: "g1"}
	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"p":0,"n":0}`, `{"p":0,"n":1}`})
	produce(t, c.ListenAddrs(), "logs", 1, []string{`{"p":1,"n":0}`, `{"p":1,"n":1}`})

	a := start(t, cfg)
	var late []source.Chunk
	for _, ch := range a.messages(t, 4) {
		if strings.HasPrefix(ch.Origin, "kafka logs/0@") {
			ch.Done(source.Result{}) // partition 0 is done before the rebalance
		} else {
			late = append(late, ch) // partition 1 is not
		}
	}

	b := start(t, cfg)
	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"p":0,"n":2}`})
	produce(t, c.ListenAddrs(), "logs", 1, []string{`{"p":1,"n":2}`})
	first := b.next(t)
	moved, _, _ := strings.Cut(strings.TrimPrefix(first.Origin, "kafka "), "@")
	var want map[string]string // partition -> where the next member starts
	switch moved {
	case "logs/0":
		// Done before the rebalance: committed, not read again.
		if first.Origin != "kafka logs/0@2" {
			t.Errorf("the new owner of partition 0 starts at %s, want @2", first.Origin)
		}
		first.Done(source.Result{})
		doneAll(late) // partition 1 is still the first member's: committed
		want = map[string]string{"logs/0": "kafka logs/0@3", "logs/1": "kafka logs/1@2"}
	case "logs/1":
		// Not done: read again from the start.
		if first.Origin != "kafka logs/1@0" {
			t.Errorf("the new owner of partition 1 starts at %s, want @0", first.Origin)
		}
		doneAll(late) // too late: partition 1 is gone, nothing committed
		want = map[string]string{"logs/0": "kafka logs/0@2", "logs/1": "kafka logs/1@0"}
	default:
		t.Fatalf("origin %s", first.Origin)
	}
	if err := a.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := b.stop(t); err != nil {
		t.Fatal(err)
	}

	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"p":0,"n":3}`})
	produce(t, c.ListenAddrs(), "logs", 1, []string{`{"p":1,"n":3}`})
	d := start(t, cfg)
	got := map[string]string{}
	for len(got) < 2 {
		ch := d.next(t)
		p, _, _ := strings.Cut(strings.TrimPrefix(ch.Origin, "kafka "), "@")
		if _, ok := got[p]; !ok {
			got[p] = ch.Origin
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("after partition %s moved, the next member starts at %v, want %v", moved, got, want)
	}
}

// TestStartLatest: a new group told to start at the latest offset skips
// what the topic held before it joined.
func TestStartLatest(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "logs"))
	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"old":0}`, `{"old":1}`})
	r := start(t, Config{Brokers: c.ListenAddrs(), Topics: []string{"logs"}, Group: "fresh", StartOffset: StartLatest})
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	if _, err := c.WaitGroupStable(ctx, "fresh", 1); err != nil {
		t.Fatal(err)
	}
	// The group is stable, but the end offset may be looked up a moment
	// later: write until a message arrives.
	for i := 0; ; i++ {
		produce(t, c.ListenAddrs(), "logs", 0, []string{`{"new":` + strconv.Itoa(i) + `}`})
		select {
		case ch := <-r.out:
			if strings.Contains(string(ch.Data), "old") || strings.HasSuffix(ch.Origin, "@0") {
				t.Fatalf("got %q at %s: the old messages were read", ch.Data, ch.Origin)
			}
			return
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no chunk")
		}
	}
}

// TestShutdownGrace: once cancelled, Run waits for the chunks it handed
// out, so that the ones done in time are committed before it leaves.
func TestShutdownGrace(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "logs"))
	cfg := Config{Brokers: c.ListenAddrs(), Topics: []string{"logs"}, Group: "g1", ShutdownGrace: waitFor}
	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"n":0}`, `{"n":1}`})

	a := start(t, cfg)
	chunks := a.messages(t, 2)
	a.cancel()
	select {
	case err := <-a.errc:
		t.Fatalf("Run returned %v with chunks not done", err)
	default:
	}
	doneAll(chunks)
	if err := a.wait(t); err != nil {
		t.Fatal(err)
	}

	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"n":2}`})
	cfg.ShutdownGrace = -1
	b := start(t, cfg)
	if ch := b.next(t); ch.Origin != "kafka logs/0@2" {
		t.Fatalf("next member starts at %s, want @2", ch.Origin)
	}
}

// testOutput is the test's output (shown when it fails or with -v) until
// the test's cleanups end, then nothing: the client's goroutines must not
// write to a finished test.
func testOutput(t *testing.T) io.Writer {
	w := &cutWriter{w: t.Output()}
	t.Cleanup(func() {
		w.mu.Lock()
		w.w = io.Discard
		w.mu.Unlock()
	})
	return w
}

type cutWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *cutWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Write(p)
}

// TestGroupRefused: a user that may read the topic but not join the group
// stops Run with the refusal, for the operator to act on.
func TestGroupRefused(t *testing.T) {
	const admin, user, pass = "admin", "reader", "reader-password"
	c := newCluster(t, kfake.SeedTopics(1, "logs"), kfake.EnableSASL(), kfake.EnableACLs(),
		kfake.Superuser("PLAIN", admin, "admin-password"),
		kfake.User("PLAIN", user, pass,
			kfake.ACL{Resource: kmsg.ACLResourceTypeTopic, Name: "logs", Pattern: kmsg.ACLResourcePatternTypeLiteral, Operation: kmsg.ACLOperationRead, Allow: true}))
	produce(t, c.ListenAddrs(), "logs", 0, []string{`{"n":0}`}, kgo.SASL(plain.Auth{User: admin, Pass: "admin-password"}.AsMechanism()))

	r := start(t, Config{Brokers: c.ListenAddrs(), Topics: []string{"logs"}, Group: "g1",
		SASL: SASL{Mechanism: MechanismPLAIN, User: user, Password: pass}})
	err := r.wait(t)
	if !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("Run returned %v, want the group authorization failure", err)
	}
}
