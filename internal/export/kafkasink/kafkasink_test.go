package kafkasink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"vaultwatch/internal/export"
	"vaultwatch/internal/export/exporttest"
)

// waitFor bounds every wait on the cluster, so that a broken test fails
// instead of hanging; nothing is asserted about time.
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

// consume reads n records of topic from the start.
func consume(t *testing.T, addrs []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("got %d of %d records: %v", len(out), n, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func header(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

func TestProduce(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(3, "vaultwatch-alerts"))
	s, err := New(Config{Name: "kafka", Brokers: c.ListenAddrs(), Topic: "vaultwatch-alerts", Format: export.OCSF{ProductVersion: "1.0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := exporttest.Stream(24) // 6 alert ids, 4 records each
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	if err := s.Send(ctx, recs[:10]); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, recs[10:]); err != nil {
		t.Fatal(err)
	}
	got := consume(t, c.ListenAddrs(), "vaultwatch-alerts", len(recs))
	bySeq := map[string]export.Record{}
	for _, r := range recs {
		bySeq[r.IdempotencyKey()] = r
	}
	partition := map[string]int32{}
	last := map[string]int64{}
	for _, r := range got {
		key := header(r, HeaderIdempotencyKey)
		want, ok := bySeq[key]
		if !ok {
			t.Fatalf("unknown record %q", key)
		}
		if string(r.Key) != want.Alert.ID || header(r, HeaderKind) != "alert" || header(r, HeaderFormat) != "ocsf" {
			t.Errorf("record %s: key %s headers %v", key, r.Key, r.Headers)
		}
		if !strings.Contains(string(r.Value), `"class_uid":2004`) || !strings.Contains(string(r.Value), key) {
			t.Errorf("value %.100s", r.Value)
		}
		// One alert's records stay in one partition, in order.
		if p, ok := partition[want.Alert.ID]; ok && p != r.Partition {
			t.Errorf("alert %s in partitions %d and %d", want.Alert.ID, p, r.Partition)
		}
		partition[want.Alert.ID] = r.Partition
		if want.Seq < last[want.Alert.ID] {
			t.Errorf("alert %s out of order", want.Alert.ID)
		}
		last[want.Alert.ID] = want.Seq
	}
}

func TestSASLPlain(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "alerts"), kfake.EnableSASL(), kfake.Superuser("PLAIN", "vw", "s3cret-pw"))
	cfg := Config{Brokers: c.ListenAddrs(), Topic: "alerts", SASL: SASL{Mechanism: MechanismPLAIN, User: "vw", Password: "s3cret-pw"}}
	if strings.Contains(fmt.Sprintf("%v %+v %s", cfg, cfg, cfg), "s3cret-pw") {
		t.Error("the config prints its password")
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	if err := s.Send(ctx, exporttest.Stream(2)); err != nil {
		t.Fatal(err)
	}
}

func TestPermanentAndRetryable(t *testing.T) {
	c := newCluster(t, kfake.SeedTopics(1, "alerts"))
	s, err := New(Config{Brokers: c.ListenAddrs(), Topic: "alerts", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	huge := exporttest.Stream(1)
	huge[0].Alert.Explanation = strings.Repeat("x", 2<<20)
	ctx, cancel := context.WithTimeout(t.Context(), waitFor)
	defer cancel()
	if err := s.Send(ctx, huge); !errors.Is(err, export.ErrPermanent) {
		t.Errorf("a record over the size limit: %v, want permanent", err)
	}
	// A cancelled send is worth a retry.
	cctx, ccancel := context.WithCancel(t.Context())
	ccancel()
	if err := s.Send(cctx, exporttest.Stream(1)); err == nil || errors.Is(err, export.ErrPermanent) {
		t.Errorf("cancelled: %v, want retryable", err)
	}
	_ = s.Close()
	if err := s.Send(ctx, exporttest.Stream(1)); err == nil {
		t.Error("Send after Close succeeded")
	}
}

func TestValidate(t *testing.T) {
	c := Config{Brokers: []string{"nohost"}, SASL: SASL{Mechanism: "GSSAPI"}, TLSCertFile: "a", Timeout: -1}
	err := c.Validate()
	for _, w := range []string{"broker", "topic", "sasl.mechanism", "tls_cert_file", "timeout"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate: %v, want %s named", err, w)
		}
	}
	c = Config{Brokers: []string{"h:9092"}, Topic: "t", SASL: SASL{Mechanism: MechanismSCRAMSHA512, Password: "p", PasswordFile: "f"}}
	err = c.Validate()
	for _, w := range []string{"sasl.user", "exclusive"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate: %v, want %s named", err, w)
		}
	}
}
